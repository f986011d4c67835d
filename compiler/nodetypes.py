"""The catalogue of node types: parameter models and ports, shared by compiler and runner.

A parameter typed ``X | Expr`` accepts a literal ``X`` or a ``{% ... %}`` expression that the
runner evaluates per item. The runner's executors (``functions/nodes``) are registered
under the same names and read their parameters through these models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from compiler.expressions import has_expression
from compiler.n8n.catalogue import N8N_TYPES, N8nType
from compiler.schedules import validate_expression, validate_timezone


def _must_be_expression(value: str) -> str:
    if not has_expression(value):
        raise ValueError("expected a literal of the field's type or a '{% ... %}' expression")
    return value


Expr = Annotated[str, AfterValidator(_must_be_expression)]


class Params(BaseModel):
    """Base of every parameter model. Fields in ``raw_fields`` are never evaluated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    raw_fields: ClassVar[frozenset[str]] = frozenset()


class NoParams(Params):
    pass


class SetParams(Params):
    values: dict[str, Any] = Field(default_factory=dict, description="Fields to set (dot paths).")
    keepOnlySet: bool = False


class SetVariableParams(Params):
    values: dict[str, Any] = Field(
        min_length=1, description="Workflow variables to set (read as `$vars.name`); "
        "expressions are evaluated against the first input item.")


class ConditionParams(Params):
    condition: bool | Expr


class SwitchRule(Params):
    condition: bool | Expr
    output: str | None = Field(
        None, pattern=r"^[^{%]*$", description="Output name; default: the rule's index."
    )


class SwitchParams(Params):
    rules: list[SwitchRule] = Field(min_length=1)
    fallbackOutput: Literal["none", "extra"] = "none"
    allMatchingOutputs: bool = False


MERGE_MAX_INPUTS = 10


class MergeParams(Params):
    mode: Literal["append", "combineByKey", "combineByPosition", "chooseBranch"] = "append"
    numberInputs: int = Field(2, ge=2, le=MERGE_MAX_INPUTS)
    key: str | None = Field(None, description="combineByKey: field to match items on.")
    join: Literal["inner", "left", "outer"] = Field(
        "inner", description="combineByKey / combineByPosition: which unmatched items stay.")
    chooseBranch: int = Field(0, ge=0, description="chooseBranch: input whose items pass.")
    waitFor: Literal["all", "any"] | int = Field(
        "all", description="all: wait for every input that can receive data; any: the "
        "first input branch to finish wins and the other branches are cancelled; N (from 2 "
        "to one less than its input branches): the first N input branches to finish win, "
        "their items are merged and the other branches are cancelled.",
        json_schema_extra={"minimum": 2, "maximum": MERGE_MAX_INPUTS - 1})

    @field_validator("waitFor")
    @classmethod
    def _quorum_between_any_and_all(cls, wait_for: str | int,
                                    info: ValidationInfo) -> str | int:
        if isinstance(wait_for, str):
            return wait_for
        if wait_for < 2:
            raise ValueError(f"waitFor {wait_for}: a number of inputs to wait for is at least "
                             "2 (the first input to finish is waitFor: any)")
        inputs = info.data.get("numberInputs")
        if isinstance(inputs, int) and wait_for >= inputs:
            raise ValueError(
                f"waitFor {wait_for} must be below numberInputs ({inputs}): waiting for "
                "every input is waitFor: all")
        return wait_for


class CodeParams(Params):
    raw_fields: ClassVar[frozenset[str]] = frozenset({"code"})
    code: str = Field(min_length=1, description="Python; sees `items`, returns a list of items.")


class HttpRequestParams(Params):
    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] | Expr = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    timeoutSeconds: float | Expr = Field(10.0)
    responseFormat: Literal["json", "text"] = "json"
    fullResponse: bool = False
    concurrency: int = Field(
        1, ge=1, le=10, description="Items whose requests are in flight at once (output keeps "
        "the items' order; a failure is the first failing item's). At most 10: the runner's "
        "HTTP session keeps 10 connections per host.")


class StopAndErrorParams(Params):
    message: str = "Workflow stopped by a stopAndError node"
    errorType: str = Field("Sfnflow.StoppedByNode", pattern=r"^[A-Za-z][A-Za-z0-9_.]*$")


def _must_have_timezone(value: str) -> str:
    if has_expression(value):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO-8601 timestamp such as 2026-12-01T09:00:00+02:00, "
                         "or a '{% ... %}' expression") from None
    if moment.tzinfo is None:
        raise ValueError("the timestamp needs a timezone (Z or an offset like +02:00)")
    return value


class WaitParams(Params):
    seconds: Annotated[int, Field(ge=0)] | Expr = Field(
        1, description="How long to wait (a Wait state)."
    )
    until: Annotated[str, AfterValidator(_must_have_timezone)] | None = Field(
        None, description="Wait until this moment instead: an ISO-8601 timestamp with a "
        "timezone, or an expression giving one (evaluated with $json = the first item).")
    resume: Literal["time", "webhook", "approval"] = Field(
        "time", description="time: a Wait state (seconds / until); webhook: pause until "
        "the signed resume URL is called; approval: pause until approved or rejected "
        "through the API (a .waitForTaskToken task; limit it with the node's "
        "timeoutSeconds).")
    onTimeout: Literal["fail", "continue"] = Field(
        "fail", description="When a paused wait reaches the node's timeoutSeconds: fail "
        "with States.Timeout (handled by onError), or continue with the input items.")

    @model_validator(mode="after")
    def _resume_fields(self) -> WaitParams:
        if self.resume != "time" and ({"seconds", "until"} & self.model_fields_set):
            raise ValueError(f"seconds and until apply to resume: time; a resume: "
                             f"{self.resume} wait is limited by the node's timeoutSeconds")
        if self.resume == "time" and "onTimeout" in self.model_fields_set:
            raise ValueError("onTimeout applies to resume: webhook or approval")
        return self


INLINE_MAX_CONCURRENCY = 40
"""An inline Map runs at most 40 iterations at once; more makes the loop a Distributed Map."""
DISTRIBUTED_MAX_CONCURRENCY = 10_000

LoopMode = Literal["auto", "inline", "distributed"]
_LOOP_MODE = (
    "auto: a Distributed Map (iterations as child executions) when maxConcurrency is over "
    f"{INLINE_MAX_CONCURRENCY} or the loop could fill the execution's event history, else "
    "an inline Map; inline / distributed: always that.")


def _inline_concurrency(mode: str, info: ValidationInfo) -> str:
    concurrency = info.data.get("maxConcurrency")
    if mode == "inline" and isinstance(concurrency, int) and \
            concurrency > INLINE_MAX_CONCURRENCY:
        raise ValueError(f"an inline Map runs at most {INLINE_MAX_CONCURRENCY} iterations at "
                         f"once (maxConcurrency is {concurrency}): use mode auto or distributed")
    return mode


class SplitInBatchesParams(Params):
    batchSize: int = Field(1, ge=1, le=10_000, description="Items per loop iteration.")
    maxConcurrency: int = Field(
        1, ge=1, le=DISTRIBUTED_MAX_CONCURRENCY, description="Iterations running at once.")
    mode: LoopMode = Field("auto", description=_LOOP_MODE)

    @field_validator("mode")
    @classmethod
    def _inline_limit(cls, mode: str, info: ValidationInfo) -> str:
        return _inline_concurrency(mode, info)


class ForEachParams(Params):
    batchSize: int = Field(1, ge=1, le=10_000)
    maxConcurrency: int = Field(10, ge=1, le=DISTRIBUTED_MAX_CONCURRENCY)
    mode: LoopMode = Field("auto", description=_LOOP_MODE)

    @field_validator("mode")
    @classmethod
    def _inline_limit(cls, mode: str, info: ValidationInfo) -> str:
        return _inline_concurrency(mode, info)


WHILE_MAX_ITERATIONS = 10_000
"""The highest iteration cap a while loop may ask for (its default is 100)."""


class WhileParams(Params):
    condition: bool | Expr = Field(
        description="Checked before every iteration over the items coming back from the "
        "body (the input items at first): the loop goes on while it holds for at least one "
        "item ($json, $index, $items).")
    mode: Literal["while", "doWhile"] = Field(
        "while", description="doWhile: the first iteration runs without checking (repeat).")
    maxIterations: int = Field(
        100, ge=1, le=WHILE_MAX_ITERATIONS, description="Iteration cap: one more iteration "
        "fails the execution with Sfnflow.LoopLimitExceeded.")


SUBWORKFLOW_MAX_DEPTH = 10
"""Default limit of sub-workflow nesting: the root execution is depth 0, its children 1."""


class ExecuteWorkflowParams(Params):
    raw_fields: ClassVar[frozenset[str]] = frozenset({"workflow"})
    workflow: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                          description="Name of the workflow to run (static: its state "
                          "machine ARN is a deploy-time substitution).")
    waitForCompletion: bool = Field(
        True, description="Wait for the child and output its items (startExecution.sync:2); "
        "false: start it and pass the input items through.")
    maxDepth: int | None = Field(
        None, ge=1, le=100, description="Levels of sub-workflows allowed below this node "
        "(1: the child may not call further workflows). Every execution is also limited to "
        f"depth {SUBWORKFLOW_MAX_DEPTH}; the tightest limit on the call chain wins.")


class AggregateParams(Params):
    mode: Literal["allItemData", "individualFields"] = "allItemData"
    fields: list[str] = Field(default_factory=list)
    destination: str = "data"


class SplitOutParams(Params):
    field: str = Field(min_length=1)
    destination: str | None = None
    include: Literal["noOtherFields", "allOtherFields"] = "noOtherFields"


class SortKey(Params):
    field: str = Field(min_length=1)
    order: Literal["ascending", "descending"] = "ascending"


class SortParams(Params):
    fields: list[SortKey] = Field(min_length=1)


class LimitParams(Params):
    maxItems: int = Field(1, ge=0)
    keep: Literal["first", "last"] = "first"


class RemoveDuplicatesParams(Params):
    fields: list[str] = Field(default_factory=list, description="Empty: compare whole items.")


WORKFLOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
ExecutionStatus = Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


class TriggerParams(Params):
    """Trigger parameters configure the platform (routes, schedules, rules), not items:
    none of them is ever evaluated as an expression."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.raw_fields = frozenset(cls.model_fields)


class WebhookParams(TriggerParams):
    path: str = Field(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$",
                      description="Served at /webhook/<path>; unique per method.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    secret: str | None = Field(
        None, min_length=8, description="HMAC-SHA256 key: requests must carry "
        "`X-Sfnflow-Signature: sha256=<hex HMAC of the raw body>` or get 401.")
    responseMode: Literal["onReceived", "lastNode"] = Field(
        "onReceived", description="onReceived: 202 with the execution id at once; "
        "lastNode: wait for the execution and answer with its output items.")


class ScheduleTriggerParams(TriggerParams):
    expression: Annotated[str, AfterValidator(validate_expression)] = Field(
        description="EventBridge Scheduler expression: `cron(0 9 ? * MON-FRI *)`, "
        "`rate(5 minutes)` or `at(2026-12-01T09:00:00)`.")
    timezone: Annotated[str, AfterValidator(validate_timezone)] = Field(
        "UTC", description="IANA timezone the cron and at fields are read in.")


def _event_pattern(pattern: dict[str, Any], path: str = "") -> dict[str, Any]:
    """The shape of an EventBridge pattern: objects nest, every leaf is a non-empty array
    (of values or matchers like ``{"prefix": "a"}``). The rest EventBridge checks."""
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            if not value:
                raise ValueError(f"{where}: an empty object matches nothing")
            _event_pattern(value, where)
        elif not isinstance(value, list) or not value:
            raise ValueError(f"{where}: a pattern's leaves are non-empty arrays, e.g. "
                             f'{{"{key}": [{json.dumps(value)}]}}')
    return pattern


class EventTriggerParams(TriggerParams):
    eventBus: str = Field("default", min_length=1, max_length=256,
                          pattern=r"^[A-Za-z0-9._\-/]+$|^arn:")
    pattern: Annotated[dict[str, Any], AfterValidator(_event_pattern)] = Field(
        min_length=1, description="EventBridge event pattern; a matching event becomes the "
        "trigger item.")


class WorkflowTriggerParams(TriggerParams):
    workflow: str = Field(max_length=64, pattern=WORKFLOW_NAME,
                          description="Start when this workflow's execution finishes.")
    statuses: list[ExecutionStatus] = Field(default=["SUCCEEDED"], min_length=1)


class N8nParams(Params):
    """An n8n node's parameters, verbatim: n8n's own shapes per typeVersion, which the
    runner reads (``functions.n8n``); ``=`` strings are n8n expressions the runner's
    JavaScript engine evaluates, never JSONata."""

    typeVersion: float
    parameters: dict[str, Any] = Field(default_factory=dict)


Lowering = Literal["task", "wait", "native", "loop", "subworkflow", "while", "jump",
                   "variables"]
LOOP_LOWERINGS = frozenset({"loop", "while"})  # node types whose `loop` output is a body


@dataclass(frozen=True)
class NodeType:
    """What the compiler needs to know about a node type."""

    name: str
    params: type[Params]
    description: str
    trigger: bool = False
    lowering: Lowering = "task"
    outputs: Callable[[Any], list[str]] = field(default=lambda _params: ["main"])
    inputs: Callable[[Any], int] = field(default=lambda _params: 1)
    #: n8n node types (``compiler.n8n.catalogue``): the typeVersions that exist; their
    #: parameters are ``N8nParams`` and hold n8n expressions, not JSONata
    versions: frozenset[float] = frozenset()

    @property
    def n8n(self) -> bool:
        return bool(self.versions)


def _switch_outputs(params: SwitchParams) -> list[str]:
    names = [rule.output or str(index) for index, rule in enumerate(params.rules)]
    return names + (["fallback"] if params.fallbackOutput == "extra" else [])


NODE_TYPES: dict[str, NodeType] = {
    spec.name: spec
    for spec in [
        NodeType("manualTrigger", NoParams, "Starts the workflow with the execution input.",
                 trigger=True, inputs=lambda _p: 0),
        NodeType("webhook", WebhookParams, "Starts the workflow on an HTTP request to "
                 "/webhook/<path>; the item is {body, headers, query, method, path}.",
                 trigger=True, inputs=lambda _p: 0),
        NodeType("scheduleTrigger", ScheduleTriggerParams, "Starts the workflow on a "
                 "schedule (EventBridge Scheduler); the item is {scheduledAt, timezone}.",
                 trigger=True, inputs=lambda _p: 0),
        NodeType("eventTrigger", EventTriggerParams, "Starts the workflow when an event "
                 "on an EventBridge bus matches the pattern; the event is the item.",
                 trigger=True, inputs=lambda _p: 0),
        NodeType("workflowTrigger", WorkflowTriggerParams, "Starts the workflow when "
                 "another workflow finishes with one of the statuses; the item describes "
                 "that execution.", trigger=True, inputs=lambda _p: 0),
        NodeType("errorTrigger", NoParams, "Starts an error workflow; the item describes "
                 "the failed execution (see README: error workflows).",
                 trigger=True, inputs=lambda _p: 0),
        NodeType("set", SetParams, "Sets fields on every item.", lowering="native"),
        NodeType("if", ConditionParams, "Routes each item to `true` or `false`.",
                 outputs=lambda _p: ["true", "false"], lowering="native"),
        NodeType("switch", SwitchParams, "Routes each item to the output(s) whose rule matches.",
                 outputs=_switch_outputs, lowering="native"),
        NodeType("merge", MergeParams, "Joins its inputs: append, combine by key, choose branch.",
                 inputs=lambda p: p.numberInputs, lowering="native"),
        NodeType("filter", ConditionParams, "Keeps the items whose condition is true.",
                 lowering="native"),
        NodeType("code", CodeParams, "Runs Python over `items`."),
        NodeType("httpRequest", HttpRequestParams, "Calls an HTTP endpoint once per item."),
        NodeType("noOp", NoParams, "Passes items through.", lowering="native"),
        NodeType("setVariable", SetVariableParams, "Sets workflow variables ($vars) and "
                 "passes its items through.", lowering="variables"),
        NodeType("stopAndError", StopAndErrorParams, "Fails the workflow with a typed error.",
                 lowering="native"),
        NodeType("wait", WaitParams, "Waits (a native Wait state), or pauses until resumed "
                 "by a signed URL or approved (see README: pause, resume and approvals).",
                 lowering="wait"),
        NodeType("executeWorkflow", ExecuteWorkflowParams,
                 "Runs another workflow with the input items (a Step Functions child "
                 "execution) and outputs the child's items.", lowering="subworkflow"),
        NodeType("splitInBatches", SplitInBatchesParams,
                 "Loop Over Items: runs the nodes on `loop` once per batch (a Map state); "
                 "items connected back to it come out of `done`.", lowering="loop",
                 outputs=lambda _p: ["done", "loop"]),
        NodeType("forEach", ForEachParams,
                 "Runs the nodes on `loop` once per item, concurrently (a Map state); "
                 "items connected back to it come out of `done`.", lowering="loop",
                 outputs=lambda _p: ["done", "loop"]),
        NodeType("while", WhileParams,
                 "Runs the nodes on `loop` again and again while its condition holds (at "
                 "most maxIterations times); items connected back to it are the next "
                 "iteration's, and the last iteration's come out of `done`.",
                 lowering="while", outputs=lambda _p: ["done", "loop"]),
        NodeType("break", NoParams, "Inside a while body: ends the loop now; its input "
                 "items come out of the loop's `done`.", lowering="jump",
                 outputs=lambda _p: []),
        NodeType("continue", NoParams, "Inside a while body: skips the rest of the "
                 "iteration; its input items go back to the loop's condition.",
                 lowering="jump", outputs=lambda _p: []),
        NodeType("aggregate", AggregateParams, "Collects all items (or fields) into one item."),
        NodeType("splitOut", SplitOutParams, "Turns a list field into one item per element."),
        NodeType("sort", SortParams, "Sorts items by fields."),
        NodeType("limit", LimitParams, "Keeps the first or last N items.", lowering="native"),
        NodeType("removeDuplicates", RemoveDuplicatesParams, "Drops repeated items."),
    ]
}


def _n8n_node_type(spec: N8nType) -> NodeType:
    """n8n's nodes run on the node runner (``functions.nodes.n8n``), which keeps every
    node's run data and ``pairedItem`` lineage for the expressions that read them; Loop
    Over Items v3 is sfnflow's splitInBatches loop (a Map over batches, one at a time), and
    n8n's Wait is sfnflow's wait lowering (``compiler.n8n.wait_params``)."""
    if spec.lowering == "loop":  # validate gives it SplitInBatchesParams (LOOP_VERSIONS)
        return NodeType(spec.name, SplitInBatchesParams, spec.description, lowering="loop",
                        outputs=lambda _p: ["done", "loop"], versions=spec.versions)
    if spec.lowering == "wait":  # a native Wait state (compiler.lowering.n8n_wait)
        from compiler.n8n.wait_params import node_type

        return node_type(spec)
    return NodeType(
        spec.name, N8nParams, spec.description, trigger=spec.trigger,
        # native where exact (compiler.lowering.n8n_native), the runner otherwise
        lowering="native" if spec.lowering == "native" else "task",
        outputs=lambda p: spec.outputs(p.typeVersion, p.parameters),
        inputs=lambda p: spec.inputs(p.typeVersion, p.parameters),
        versions=spec.versions)


NODE_TYPES.update({name: _n8n_node_type(spec) for name, spec in N8N_TYPES.items()})


def _database_node_types() -> list[NodeType]:
    """sqlItems, dynamodb and postgres: their models build on ``Params`` above."""
    from compiler.database_nodes import node_types

    return node_types()


NODE_TYPES.update({spec.name: spec for spec in _database_node_types()})


def _ai_node_types() -> list[NodeType]:
    """agent and tool: their models build on ``Params`` above."""
    from compiler.ai_params import node_types

    return node_types()


NODE_TYPES.update({spec.name: spec for spec in _ai_node_types()})


def output_names(type_name: str, params: Params, on_error: str) -> list[str]:
    """Output port names of a node, including the `error` port of continueErrorOutput."""
    names = NODE_TYPES[type_name].outputs(params)
    return names + ["error"] if on_error == "continueErrorOutput" else names
