"""Where costs are kept: the execution's breakdown and a running total per workflow and day.

Both live in the executions table (no new table, no new grant for the status-change
handler, which already updates execution items):

* the breakdown is the ``cost`` attribute of the execution's own item;
* a workflow's day is one item keyed ``costs#<workflowId>#<YYYY-MM-DD>``. Execution names
  may not contain ``#`` (Step Functions refuses it), so no execution can have that key,
  and the item has none of the attributes the table's indexes are keyed on (workflowId,
  status, kind, startedAt): no listing of executions ever sees it.

Money is summed in whole picodollars (1e-12 USD) and Lambda time in micro-GB-seconds:
integers add exactly over any number of executions, where floats would drift (and a float
such as ``2e-05`` is sent in exponent form, which moto's ADD cannot parse).

Recording is one transaction: set the execution's ``cost`` if it has none, and add to the
day's totals. A second delivery of the same ended execution fails the condition and adds
nothing, so the daily totals count every execution exactly once. ``GET /costs`` reads one
item per day asked for (GetItem, no Scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.store.models import ExecutionModel

DAY_KEY_PREFIX = "costs#"
COMPONENTS = ("stepFunctions", "lambda", "dynamodb", "s3")
PICO = 1_000_000_000_000  # picodollars per dollar
MICRO = 1_000_000  # micro-GB-seconds per GB-second


def _pico(dollars: Any) -> int:
    return round(float(dollars or 0) * PICO)


class ExecutionCostModel(Model):
    """The ``cost`` attribute of an execution item (the item itself is ``ExecutionModel``'s)."""

    class Meta:
        table_name = "sfnflow-executions"
        region = "us-east-1"
        host: str | None = None

    executionId = UnicodeAttribute(hash_key=True)
    cost = JSONAttribute(null=True)


class DailyCostModel(Model):
    """One workflow's costs on one UTC day, added to as its executions end."""

    class Meta:
        table_name = "sfnflow-executions"
        region = "us-east-1"
        host: str | None = None

    executionId = UnicodeAttribute(hash_key=True)  # costs#<workflowId>#<YYYY-MM-DD>
    costWorkflow = UnicodeAttribute(null=True)
    costDay = UnicodeAttribute(null=True)
    executions = NumberAttribute(default=0)
    totalPico = NumberAttribute(default=0)  # picodollars
    stepFunctionsPico = NumberAttribute(default=0)
    lambdaPico = NumberAttribute(default=0)
    dynamodbPico = NumberAttribute(default=0)
    s3Pico = NumberAttribute(default=0)
    modelPico = NumberAttribute(default=0)  # the agents' model tokens
    stateTransitions = NumberAttribute(default=0)
    lambdaMicroGbSeconds = NumberAttribute(default=0)


def day_key(workflow_id: str, day: str) -> str:
    return f"{DAY_KEY_PREFIX}{workflow_id}#{day}"


def _bind() -> None:
    """Follow ``ExecutionModel``'s binding (``functions.store.models.bind_tables``)."""
    meta = ExecutionModel.Meta
    for model in (ExecutionCostModel, DailyCostModel):
        bound = (model.Meta.table_name, model.Meta.region, getattr(model.Meta, "host", None))
        wanted = (meta.table_name, meta.region, getattr(meta, "host", None))
        if bound != wanted:
            model.Meta.table_name, model.Meta.region, model.Meta.host = wanted
            model._connection = None


@dataclass(frozen=True)
class DayCost:
    workflow_id: str
    day: str
    executions: int
    total: float
    components: dict[str, float]
    state_transitions: int
    lambda_gb_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"workflowId": self.workflow_id, "day": self.day,
                "executions": self.executions, "total": self.total,
                "components": self.components, "stateTransitions": self.state_transitions,
                "lambdaGbSeconds": self.lambda_gb_seconds}


class CostStore:
    def execution_cost(self, execution_id: str) -> dict[str, Any] | None:
        _bind()
        try:
            item = ExecutionCostModel.get(execution_id, attributes_to_get=["cost"])
        except DoesNotExist:
            return None
        return item.cost if isinstance(item.cost, dict) else None

    def record(self, execution_id: str, workflow_id: str, day: str,
               cost: dict[str, Any]) -> bool:
        """Store ``cost`` on the execution and add it to its workflow's day, once; False
        when the execution already had its cost (nothing is added again)."""
        _bind()
        usage = cost.get("usage", {})
        components = cost.get("components", {})
        daily = DailyCostModel(day_key(workflow_id, day))
        meta = ExecutionModel.Meta
        connection = Connection(region=meta.region, host=getattr(meta, "host", None))
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.update(
                    ExecutionCostModel(execution_id),
                    actions=[ExecutionCostModel.cost.set(cost)],
                    condition=ExecutionCostModel.executionId.exists()
                    & ExecutionCostModel.cost.does_not_exist())
                transaction.update(daily, actions=[
                    DailyCostModel.costWorkflow.set(workflow_id),
                    DailyCostModel.costDay.set(day),
                    DailyCostModel.executions.add(1),
                    DailyCostModel.totalPico.add(_pico(cost.get("total"))),
                    DailyCostModel.stepFunctionsPico.add(_pico(components.get("stepFunctions"))),
                    DailyCostModel.lambdaPico.add(_pico(components.get("lambda"))),
                    DailyCostModel.dynamodbPico.add(_pico(components.get("dynamodb"))),
                    DailyCostModel.s3Pico.add(_pico(components.get("s3"))),
                    DailyCostModel.modelPico.add(_pico(components.get("model"))),
                    DailyCostModel.stateTransitions.add(int(usage.get("stateTransitions", 0))),
                    DailyCostModel.lambdaMicroGbSeconds.add(
                        round(float(usage.get("lambdaGbSeconds", 0)) * MICRO)),
                ])
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def days(self, workflow_id: str, first: date, last: date) -> list[DayCost]:
        """The workflow's days from ``first`` to ``last`` (inclusive) that had executions."""
        _bind()
        found = []
        day = first
        while day <= last:
            try:
                item = DailyCostModel.get(day_key(workflow_id, day.isoformat()))
            except DoesNotExist:
                item = None
            if item is not None:
                found.append(DayCost(
                    workflow_id, day.isoformat(), int(item.executions),
                    int(item.totalPico) / PICO,
                    {"stepFunctions": int(item.stepFunctionsPico) / PICO,
                     "lambda": int(item.lambdaPico) / PICO,
                     "dynamodb": int(item.dynamodbPico) / PICO, "s3": int(item.s3Pico) / PICO,
                     "model": int(item.modelPico) / PICO},
                    int(item.stateTransitions), int(item.lambdaMicroGbSeconds) / MICRO))
            day += timedelta(days=1)
        return found
