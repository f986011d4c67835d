"""Amazon States Language values: one small frozen dataclass per state type, one serializer.

Only the fields sfnflow emits are modelled. Every state uses JSONata (set once at the top of
the definition), so data moves through ``Arguments``, ``Output`` and ``Assign``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = Any

# The partition of every ARN a definition names (``aws``, ``aws-cn``, ``aws-us-gov``): a
# DefinitionSubstitutions placeholder filled by whoever deploys the definition (the stack
# with its own partition, the API with its configuration's, the local cloud with ``aws``).
PARTITION_SUBSTITUTION = "Partition"


def integration(service_action: str) -> str:
    """The Resource of a Step Functions service integration, e.g. ``lambda:invoke``."""
    return f"arn:${{{PARTITION_SUBSTITUTION}}}:states:::{service_action}"


def _with_data(out: dict[str, JSON], assign: dict[str, JSON] | None,
               output: JSON) -> dict[str, JSON]:
    """Add the JSONata data fields a state, Catcher or Choice rule may carry."""
    if assign:
        out["Assign"] = assign
    if output is not None:
        out["Output"] = output
    return out


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval_seconds: int
    max_attempts: int
    backoff_rate: float
    max_delay_seconds: int | None = None
    jitter: bool = False

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "ErrorEquals": list(self.errors),
            "IntervalSeconds": self.interval_seconds,
            "MaxAttempts": self.max_attempts,
            "BackoffRate": self.backoff_rate,
        }
        if self.max_delay_seconds is not None:
            out["MaxDelaySeconds"] = self.max_delay_seconds
        if self.jitter:
            out["JitterStrategy"] = "FULL"
        return out


@dataclass(frozen=True)
class Catcher:
    errors: tuple[str, ...]
    next: str
    assign: dict[str, JSON] | None = None
    output: JSON = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"ErrorEquals": list(self.errors), "Next": self.next}
        return _with_data(out, self.assign, self.output)


@dataclass(frozen=True)
class _State:
    """Fields every state sfnflow emits may carry. ``next=None`` means End."""

    next: str | None = None
    assign: dict[str, JSON] | None = None
    output: JSON = None
    comment: str | None = None

    type_name = ""

    def _body(self) -> dict[str, JSON]:
        return {}

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Type": self.type_name}
        if self.comment:
            out["Comment"] = self.comment
        out.update(self._body())
        _with_data(out, self.assign, self.output)
        if self.type_name not in ("Choice", "Succeed", "Fail"):
            if self.next is None:
                out["End"] = True
            else:
                out["Next"] = self.next
        return out


@dataclass(frozen=True)
class Task(_State):
    resource: str = ""
    arguments: JSON = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    timeout_seconds: int | None = None
    type_name = "Task"

    def _body(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Resource": self.resource}
        if self.arguments is not None:
            out["Arguments"] = self.arguments
        if self.timeout_seconds is not None:
            out["TimeoutSeconds"] = self.timeout_seconds
        if self.retry:
            out["Retry"] = [r.to_dict() for r in self.retry]
        if self.catch:
            out["Catch"] = [c.to_dict() for c in self.catch]
        return out


@dataclass(frozen=True)
class Branch:
    start_at: str
    states: dict[str, _State] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "StartAt": self.start_at,
            "States": {name: state.to_dict() for name, state in self.states.items()},
        }


@dataclass(frozen=True)
class Parallel(_State):
    branches: tuple[Branch, ...] = ()
    catch: tuple[Catcher, ...] = ()
    type_name = "Parallel"

    def _body(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Branches": [branch.to_dict() for branch in self.branches]}
        if self.catch:
            out["Catch"] = [c.to_dict() for c in self.catch]
        return out


@dataclass(frozen=True)
class Map(_State):
    """An inline Map, or with ``distributed`` a Distributed Map whose iterations run as
    STANDARD child executions and whose first failed item fails the Map (no tolerance)."""

    items: str = ""
    item_selector: JSON = None
    processor: Branch = field(default_factory=lambda: Branch(""))
    max_concurrency: int = 0
    distributed: bool = False
    label: str | None = None
    item_reader: JSON = None  # instead of ``items``: a Distributed Map reading from S3
    result_writer: JSON = None  # a Distributed Map writing its results to S3
    type_name = "Map"

    def _body(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {"Mode": "INLINE"}
        if self.distributed:
            config = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        processor = {"ProcessorConfig": config, **self.processor.to_dict()}
        out: dict[str, JSON] = {"ItemReader": self.item_reader} if self.item_reader \
            else {"Items": self.items}
        if self.item_selector is not None:
            out["ItemSelector"] = self.item_selector
        out["ItemProcessor"] = processor
        if self.max_concurrency:
            out["MaxConcurrency"] = self.max_concurrency
        if self.distributed:
            out["ToleratedFailurePercentage"] = 0.0  # a float: moto's parser wants a NUMBER
            if self.label:
                out["Label"] = self.label
        if self.result_writer:
            out["ResultWriter"] = self.result_writer
        return out


@dataclass(frozen=True)
class ChoiceRule:
    condition: str
    next: str
    assign: dict[str, JSON] | None = None
    output: JSON = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Condition": self.condition, "Next": self.next}
        return _with_data(out, self.assign, self.output)


@dataclass(frozen=True)
class Choice(_State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str = ""
    type_name = "Choice"

    def _body(self) -> dict[str, JSON]:
        return {"Choices": [rule.to_dict() for rule in self.choices], "Default": self.default}


@dataclass(frozen=True)
class Pass(_State):
    type_name = "Pass"


@dataclass(frozen=True)
class Succeed(_State):
    """Ends the execution (or the enclosing branch) successfully; a terminal state."""

    type_name = "Succeed"


@dataclass(frozen=True)
class Fail(_State):
    """Ends the execution (or the enclosing branch) with an error; a terminal state."""

    error: str = ""
    cause: str | None = None
    type_name = "Fail"

    def _body(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Error": self.error}
        if self.cause is not None:
            out["Cause"] = self.cause
        return out


@dataclass(frozen=True)
class Wait(_State):
    seconds: int | str | None = 0
    timestamp: str | None = None
    type_name = "Wait"

    def _body(self) -> dict[str, JSON]:
        if self.timestamp is not None:
            return {"Timestamp": self.timestamp}
        return {"Seconds": self.seconds}


@dataclass(frozen=True)
class StateMachine:
    start_at: str
    states: dict[str, _State]
    comment: str = ""
    timeout_seconds: int | None = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"Comment": self.comment, "QueryLanguage": "JSONata"}
        if self.timeout_seconds is not None:
            out["TimeoutSeconds"] = self.timeout_seconds
        out.update(Branch(self.start_at, self.states).to_dict())
        return out


State = _State
