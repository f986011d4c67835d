"""The strict layer: AWS Step Functions rules moto does not enforce, enforced locally.

Local green must mean AWS green, so the embedded cloud fails where AWS fails. Each rule is
a small pure function here plus the one hook that applies it to moto's interpreter (moto is
pinned exactly; ``verify()`` fails loudly if a hook is not in place). ``install()`` runs from
``moto_patches.apply_all()`` — there is no switch to turn the layer off — and every rule has
a test in ``tests/local/test_strict.py``. ``docs/aws-rules.md`` lists the rules, and the AWS
rules the local runtime cannot enforce.

1. **API length constraints** (``api``): every request member with a maximum length in the
   Step Functions API model — names (80), ``input``/``output`` (262,144), ``cause`` (32,768),
   ``error`` (256), … — is checked as AWS's front end does: ``ValidationException``. The
   interpreter's own API errors answer with their codes (``InvalidDefinition``, …).
2. **Execution names** (``execution-names``): StartExecution names with whitespace,
   brackets, wildcards, special or control characters answer ``InvalidName``.
3. **Definition rules** (``definition``): CreateStateMachine and UpdateStateMachine answer
   ``InvalidDefinition`` for a definition breaking ``local.aws_rules`` (variable scopes;
   state and variable names over 80 characters).
4. **Payload size** (``payload``): a state's output, a task's result and a task's input
   after Parameters/Arguments are measured as compact UTF-8 JSON; over 262,144 bytes fails
   the state with ``States.DataLimitExceeded``.
5. **Uncatchable errors** (``catch``): ``States.ALL`` matches neither
   ``States.DataLimitExceeded`` nor ``States.Runtime``, and nothing catches or retries
   ``States.Runtime`` (moto's ``States.ALL`` matched both).
6. **Causes** (``causes``): an error cause the service builds (a Fail state's, a Lambda
   error's, a task failure's) is cut to 32,768 characters, the most the history and
   DescribeExecution carry.
7. **History** (``history``): event 25,000 of an execution is its last. Unless it is
   ``ExecutionSucceeded`` (or another end of the execution), it becomes ``ExecutionFailed``
   with ``States.Runtime``: "The execution reached the maximum number of history events
   (25000)." A Distributed Map's children are not counted (AWS counts each child apart;
   moto pools them in one throwaway history).
8. **Create is idempotent, not an upsert** (``create-idempotency``): CreateStateMachine with
   the name of an existing machine returns it only when the request is the same — name,
   definition, type, logging and tracing configuration; a different roleArn or tags are
   ignored — else it answers ``StateMachineAlreadyExists`` (moto returned the old machine,
   so a deploy that meant to replace a definition silently kept the old one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from local import aws_rules

PAYLOAD_BYTES_MAX = 262_144  # 256 KiB: state input/output, task input/result
CAUSE_CHARS_MAX = 32_768  # an error's cause in the history and DescribeExecution
HISTORY_EVENTS_MAX = 25_000  # events in one execution's history

RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"

_MARK = "_sfnflow_strict"  # set on every function a hook installs: the rule's name


class StrictLayerOff(RuntimeError):
    """A strict rule's hook is not in place (a moto upgrade moved what it patches?)."""


# --------------------------------------------------------------------------- pure rules


def payload_bytes(value: Any) -> int:
    """A payload's size as Step Functions counts it: its compact JSON, UTF-8 encoded (moto
    counted ``", "`` separators and ``\\u00e9`` escapes, and a string value unquoted)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode())


def within_payload_limit(value: Any) -> bool:
    return payload_bytes(value) <= PAYLOAD_BYTES_MAX


def truncated_cause(cause: Any) -> Any:
    """A cause cut to what the history carries; other values pass unchanged."""
    if isinstance(cause, str) and len(cause) > CAUSE_CHARS_MAX:
        return cause[:CAUSE_CHARS_MAX]
    return cause


def length_violations(members: Iterable[tuple[str, Mapping[str, Any]]],
                      value_of: Callable[[str], Any]) -> list[str]:
    """AWS's message parts for request members longer than their model maximum.
    ``members`` are (name, metadata) pairs from the API model's input shape."""
    violations = []
    for name, metadata in members:
        value, limit = value_of(name), metadata.get("max")
        if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
            shown = "" if metadata.get("sensitive") else f" '{value}'"
            violations.append(f"Value{shown} at '{name}' failed to satisfy constraint: "
                              f"Member must have length less than or equal to {limit}")
    return violations


def validation_message(violations: list[str]) -> str:
    count = len(violations)
    return (f"{count} validation error{'s' if count > 1 else ''} detected: "
            + "; ".join(violations))


def catches(error: str | None, error_equals: Iterable[str]) -> bool | None:
    """False where AWS never matches ``error`` although moto would; None: moto decides."""
    names = set(error_equals)
    if error == RUNTIME:
        return False
    if error == DATA_LIMIT_EXCEEDED and error not in names:
        return False
    return None


def history_full_cause() -> str:
    return f"The execution reached the maximum number of history events ({HISTORY_EVENTS_MAX})."


_EXECUTION_ENDS = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted",
                   "ExecutionTimedOut")


# --------------------------------------------------------------------------- hooks


def _mark(rule: str, function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _MARK, rule)
    return function


def _current(owner: Any, attribute: str) -> Any:
    """What ``owner.attribute`` holds (a class's own attribute; a staticmethod unwrapped)."""
    value = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
    return value.__func__ if isinstance(value, staticmethod) else value


def _replace(owner: Any, attribute: str, rule: str,
             build: Callable[[Any], Callable[..., Any]]) -> tuple[Any, str]:
    """Replace ``owner.attribute`` with ``build(original)``, once (idempotent)."""
    original = _current(owner, attribute)
    if getattr(original, _MARK, None) != rule:
        replacement = _mark(rule, build(original))
        is_static = isinstance(owner, type) and isinstance(owner.__dict__[attribute],
                                                           staticmethod)
        setattr(owner, attribute, staticmethod(replacement) if is_static else replacement)
    return owner, attribute


def _hook_api() -> list[tuple[Any, str]]:
    import botocore.session
    from moto.core.utils import camelcase_to_underscores
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.responses import StepFunctionResponse

    _name_parser_errors()
    model = botocore.session.get_session().get_service_model("stepfunctions")
    hooked = []
    for operation in model.operation_names:
        method = camelcase_to_underscores(operation)
        shape = model.operation_model(operation).input_shape
        if method not in StepFunctionResponse.__dict__ or shape is None:
            continue
        members = [(name, member.metadata) for name, member in shape.members.items()
                   if member.type_name == "string" and "max" in member.metadata]

        def build(original: Any, members: Any = members) -> Callable[..., Any]:
            @wraps(original)
            def checked(self: Any) -> Any:
                violations = length_violations(members, self._get_param)
                if violations:
                    raise ValidationException(validation_message(violations))
                return original(self)
            return checked

        hooked.append(_replace(StepFunctionResponse, method, "api", build))
    return hooked


def _name_parser_errors() -> None:
    """moto's interpreter raises its API errors (InvalidDefinition, InvalidToken,
    TaskTimedOut, ...) without an error code, so a client saw ``Code: ''``: give each the
    code AWS answers with, its class name."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import api

    for value in vars(api).values():
        if (isinstance(value, type) and issubclass(value, AWSError)
                and value.__module__ == api.__name__ and "TYPE" not in vars(value)):
            value.TYPE = value.__name__


def _hook_execution_names() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def build(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def start_execution(self: Any, state_machine_arn: str, name: Any = None,
                            *args: Any, **kwargs: Any) -> Any:
            if name:
                self._validate_name(name)  # InvalidName, as CreateStateMachine's names
            return original(self, state_machine_arn, name, *args, **kwargs)
        return start_execution

    return [_replace(StepFunctionsParserBackend, "start_execution", "execution-names", build)]


def _hook_definition() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.api import InvalidDefinition
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def build(original: Any) -> Callable[..., Any]:
        def validate_definition(definition: str) -> None:
            original(definition=definition)  # moto's parser: syntax and structure
            problems = aws_rules.definition_problems(json.loads(definition))
            if problems:
                raise InvalidDefinition(
                    "Invalid State Machine Definition: '" + "; ".join(problems) + "'")
        return validate_definition

    return [_replace(StepFunctionsParserBackend, "_validate_definition", "definition", build)]


def _hook_payload() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        state_task,
        state_task_activitiy,
        state_task_lambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    hooked = [_replace(module, "is_within_size_quota", "payload",
                       lambda _original: lambda value: within_payload_limit(value))
              for module in (state, state_task_lambda, state_task_service)]

    def too_large(task: Any, env: Any) -> FailureEventException:
        error = StatesErrorName.from_name(DATA_LIMIT_EXCEEDED)
        details = TaskFailedEventDetails(
            error=DATA_LIMIT_EXCEEDED,
            cause=f"The state/task '{task.name}' has an input with a size exceeding the "
                  "maximum number of bytes service limit.")
        return FailureEventException(FailureEvent(
            env=env, error_name=error, event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=details)))

    def build(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def eval_parameters(self: Any, env: Any) -> Any:
            parameters = original(self, env)
            payload = (parameters.get("Payload") if isinstance(
                self, state_task_lambda.StateTaskLambda) else parameters)
            if not within_payload_limit(payload):
                raise too_large(self, env)
            return parameters
        return eval_parameters

    for task_class in (state_task.StateTask, state_task_lambda.StateTaskLambda,
                       state_task_activitiy.StateTaskActivity):
        hooked.append(_replace(task_class, "_eval_parameters", "payload", build))
    return hooked


def _hook_catch() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )

    def build(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def eval_body(self: Any, env: Any) -> None:
            error = getattr(env.stack[-1], "error_name", None)
            verdict = catches(error, (n.error_name for n in self.error_names))
            if verdict is None:
                original(self, env)
            else:
                env.stack.pop()
                env.stack.append(verdict)
        return eval_body

    return [_replace(ErrorEqualsDecl, "_eval_body", "catch", build)]


def _hook_causes() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )

    def build(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            for details in (self.event_details or {}).values():
                if isinstance(details, dict) and "cause" in details:
                    details["cause"] = truncated_cause(details["cause"])
        return init

    return [_replace(FailureEvent, "__init__", "causes", build)]


def _hook_history() -> list[tuple[Any, str]]:
    """Counts the history of every execution (an Environment's own EventManager, which its
    frames share) and ends it at the limit; also keeps every execution-level error's cause
    within the limit (``Environment.set_error``: causes decorated after the FailureEvent)."""
    import threading
    import weakref

    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def build_init(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            manager = self.event_manager  # a frame's is replaced by its execution's
            manager._sfnflow_env = weakref.ref(self)
            manager._sfnflow_lock = threading.Lock()
        return init

    def full_error() -> ExecutionFailedEventDetails:
        return ExecutionFailedEventDetails(error=RUNTIME, cause=history_full_cause())

    def build_add_event(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def add_event(self: Any, context: Any, event_type: Any, *args: Any,
                      **kwargs: Any) -> int:
            owner = getattr(self, "_sfnflow_env", None)
            if owner is None:  # a Distributed Map's pooled child history: not counted
                return int(original(self, context, event_type, *args, **kwargs))
            with self._sfnflow_lock:  # the count and the event, atomically
                if getattr(self, "_sfnflow_full", False):
                    return HISTORY_EVENTS_MAX  # the history ended at the limit
                last = self._event_id_gen._next_id >= HISTORY_EVENTS_MAX
                self._sfnflow_full = last
                if not last or getattr(event_type, "value", event_type) in _EXECUTION_ENDS:
                    return int(original(self, context, event_type, *args, **kwargs))
                original(self, context, HistoryEventType.ExecutionFailed,
                         EventDetails(executionFailedEventDetails=full_error()))
            env = owner()
            if env is not None:
                env.set_error(full_error())
            return HISTORY_EVENTS_MAX
        return add_event

    def build_set_error(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def set_error(self: Any, error: Any) -> None:
            if getattr(self.event_manager, "_sfnflow_full", False):
                error = full_error()  # nothing overrides the end at the limit
            elif isinstance(error, dict) and "cause" in error:
                error = {**error, "cause": truncated_cause(error["cause"])}
            original(self, error)
        return set_error

    return [_replace(Environment, "__init__", "history", build_init),
            _replace(EventManager, "add_event", "history", build_add_event),
            _replace(Environment, "set_error", "history", build_set_error)]


def differs_from_existing(existing: Any, definition: str, sm_type: str | None,
                          logging: Any, tracing: Any) -> list[str]:
    """What in a CreateStateMachine request differs from the machine of that name, among the
    fields AWS's idempotency check compares (the defaults are AWS's)."""
    requested = {"definition": definition, "type": sm_type or "STANDARD",
                 "loggingConfiguration": logging or {"level": "OFF"},
                 "tracingConfiguration": tracing or {"enabled": False}}
    current = {"definition": existing.definition, "type": existing.type,
               "loggingConfiguration": existing.loggingConfiguration,
               "tracingConfiguration": existing.tracingConfiguration}
    return [field for field, value in requested.items() if current[field] != value]


def _hook_create_idempotency() -> list[tuple[Any, str]]:
    from moto.stepfunctions.parser.api import StateMachineAlreadyExists
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def build(original: Any) -> Callable[..., Any]:
        @wraps(original)
        def create_state_machine(self: Any, name: str, definition: str, *args: Any,
                                 **kwargs: Any) -> Any:
            existing = next((m for m in self.state_machines if m.name == name), None)
            if existing is not None:
                different = differs_from_existing(
                    existing, definition, kwargs.get("sm_type"),
                    kwargs.get("loggingConfiguration"), kwargs.get("tracingConfiguration"))
                if different:
                    raise StateMachineAlreadyExists(
                        f"State Machine Already Exists: '{existing.arn}' (a different "
                        f"{', '.join(different)})")
            return original(self, name, definition, *args, **kwargs)
        return create_state_machine

    return [_replace(StepFunctionsParserBackend, "create_state_machine", "create-idempotency",
                     build)]


_HOOKS: dict[str, Callable[[], list[tuple[Any, str]]]] = {
    "api": _hook_api,
    "execution-names": _hook_execution_names,
    "definition": _hook_definition,
    "payload": _hook_payload,
    "catch": _hook_catch,
    "causes": _hook_causes,
    "history": _hook_history,
    "create-idempotency": _hook_create_idempotency,
}
_installed: dict[str, list[tuple[Any, str]]] = {}


def install() -> None:
    """Apply every rule (idempotent), then ``verify()``."""
    for rule, hook in _HOOKS.items():
        _installed[rule] = hook()
    verify()


def rules() -> list[str]:
    return list(_HOOKS)


def verify() -> None:
    """Raise ``StrictLayerOff`` unless every rule's hook is in place."""
    off = [rule for rule in _HOOKS if not _installed.get(rule)]
    for rule, targets in _installed.items():
        for owner, attribute in targets:
            if getattr(_current(owner, attribute), _MARK, None) != rule:
                off.append(f"{rule} ({getattr(owner, '__name__', owner)}.{attribute})")
    if off:
        raise StrictLayerOff("the strict layer is not in place: " + ", ".join(off))
