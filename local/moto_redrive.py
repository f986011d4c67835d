"""Step Functions' RedriveExecution in the embedded cloud (moto 5.2.5 has none).

What AWS does: a FAILED, TIMED_OUT or ABORTED Standard execution that ended less than 14
days ago continues from the state that did not succeed, under the same execution ARN and
name, with its history continued (an ``ExecutionRedriven`` event, ``redriveCount`` in its
details), status RUNNING again, ``redriveCount``/``redriveDate`` in DescribeExecution and
``$states.context.Execution.RedriveCount``; the states that succeeded are not run again.

What this module does, a subset of it:

- it reruns the TOP-LEVEL state whose failure ended the execution, with the input that
  state entered with and the variables (JSONata ``Assign``) as they were when it was
  entered; the states before it are not run again and their history stays;
- a failure inside a Parallel or an inline Map reruns that whole top-level state, all its
  branches and iterations. AWS reruns only the branches and iterations that failed or were
  aborted: here a branch that succeeded the first time runs again (its node runs are
  recorded twice). A Distributed Map is rerun whole the same way (AWS redrives its Map Run);
- AWS's refusals are kept (``ExecutionNotRedrivable``): an execution RUNNING (a redrive
  already running included) or SUCCEEDED, an Express execution, one that ended more than
  14 days ago. A client token repeated within 15 minutes answers as the first request did.

How: each top-level state, as it is entered by an execution's root environment (not a
branch's or an iteration's frame), leaves a resume point on the environment: its name, its
input and a shallow copy of the variables. A redrive puts the failed environment back to
running at that state, restores input and variables, and evaluates a fresh copy of the
program from there in a new thread, as moto's ``ExecutionWorker`` does for a start; its end
goes through moto's ``terminated`` as any execution's does (so ``moto_patches``' listeners
hear it, and the status-change emitter publishes the final status).
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

REDRIVABLE_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
REDRIVABLE_PERIOD = datetime.timedelta(days=14)
CLIENT_TOKEN_LIFETIME = datetime.timedelta(minutes=15)
CLIENT_TOKENS_KEPT = 10
# How long a redrive waits for the failed attempt's interpreter thread to end (a Task
# that timed out may still be waiting for its invoke); past it the redrive is refused.
SETTLE_SECONDS = 5.0

_lock = threading.Lock()  # one redrive of one execution at a time


class ResumePoint:
    """Where a redrive continues: a top-level state as it was entered."""

    __slots__ = ("state_name", "state_input", "variables", "thread")

    def __init__(self, state_name: str, state_input: Any, variables: dict[str, Any],
                 thread: threading.Thread) -> None:
        self.state_name = state_name
        self.state_input = state_input  # a reference: moto replaces input, never mutates it
        self.variables = variables
        self.thread = thread  # the interpreter thread that entered it


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


# --------------------------------------------------------------------------- resume points


def _patch_resume_points() -> None:
    """Every top-level state entered leaves its resume point on the root environment."""
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    original = CommonStateField._eval_body
    if getattr(original, "_sfnflow_resume", False):
        return

    def eval_body(self: Any, env: Any) -> None:
        if not env._is_frame:
            store = env.variable_store
            env._sfnflow_resume = ResumePoint(
                self.name, env.states._states_data["input"], dict(store._inner_scope),
                threading.current_thread())
        original(self, env)

    eval_body._sfnflow_resume = True  # type: ignore[attr-defined]
    CommonStateField._eval_body = eval_body  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the backend


def _not_redrivable(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ExecutionNotRedrivable", message)


def refusal(execution: Any, now: datetime.datetime) -> str | None:
    """Why AWS would refuse to redrive ``execution`` (moto's), or None."""
    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    if getattr(execution.state_machine, "type", "STANDARD") != "STANDARD":
        return "Express executions cannot be redriven"
    if status not in REDRIVABLE_STATUSES:
        return f"Execution is {status} and cannot be redriven"
    stopped = execution.stop_date
    if stopped is not None and now - stopped > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded"
    worker = execution.exec_worker
    if worker is None or worker.env is None or getattr(worker.env, "_sfnflow_resume",
                                                       None) is None:
        return "Execution never entered a state: start it again instead"
    return None


def _redrive_status(execution: Any, now: datetime.datetime) -> tuple[str, str | None]:
    reason = refusal(execution, now)
    return ("REDRIVABLE", None) if reason is None else ("NOT_REDRIVABLE", reason)


def redrive_execution(backend: Any, execution_arn: str, client_token: str | None
                      ) -> datetime.datetime:
    """RedriveExecution on moto's backend: returns the redrive date."""
    execution = backend.describe_execution(execution_arn)  # ExecutionDoesNotExist
    now = _now()
    with _lock:
        tokens: dict[str, datetime.datetime] = execution.__dict__.setdefault(
            "_sfnflow_redrive_tokens", {})
        if client_token and client_token in tokens and \
                now - tokens[client_token] < CLIENT_TOKEN_LIFETIME:
            return tokens[client_token]
        if (reason := refusal(execution, now)) is not None:
            raise _not_redrivable(reason)
        resume: ResumePoint = execution.exec_worker.env._sfnflow_resume
        resume.thread.join(SETTLE_SECONDS)
        if resume.thread.is_alive():
            raise _not_redrivable("the failed attempt is still ending; try again")
        _continue(execution, resume, now)
        if client_token:
            tokens[client_token] = now
            for stale in list(tokens)[:-CLIENT_TOKENS_KEPT]:
                del tokens[stale]
    return now


def _continue(execution: Any, resume: ResumePoint, now: datetime.datetime) -> None:
    """Put the failed environment back to running at ``resume`` and evaluate from there."""
    from moto.stepfunctions.parser.api import (
        ExecutionRedrivenEventDetails,
        ExecutionStatus,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from local.moto_patches import _announce_execution_change

    worker = execution.exec_worker
    env = worker.env
    program = AmazonStateLanguageParser.parse(execution.state_machine.definition)[0]
    program.start_at = StartAt(resume.state_name)  # a fresh copy: only this run reads it
    count = int(getattr(execution, "redrive_count", 0)) + 1

    with env._state_mutex:
        env._frames.clear()
        env._program_state = ProgramRunning()
    env.stack.clear()
    env.heap.clear()
    env.states.reset(input_value=resume.state_input)
    store = env.variable_store
    store._inner_scope.clear()
    store._inner_scope.update(resume.variables)
    store._variable_declarations_cache = None
    store.reset_tracing()
    context = env.states.context_object.context_object_data["Execution"]
    context["RedriveCount"] = count
    context["RedriveTime"] = now.isoformat()
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionRedriven,
        event_details=EventDetails(
            executionRedrivenEventDetails=ExecutionRedrivenEventDetails(redriveCount=count)),
    )
    execution.redrive_count = count
    execution.redrive_date = now
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.output = None
    execution.error = None
    execution.cause = None

    def run() -> None:
        program.eval(env)
        worker._execution_communication.terminated()

    thread = threading.Thread(target=run, daemon=True, name="sfnflow-redrive")
    thread.start()
    _announce_execution_change(execution.exec_arn)


# --------------------------------------------------------------------------- the API


def _patch_responses() -> None:
    """RedriveExecution answered; DescribeExecution carries the redrive fields."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def redrive(self: Any) -> Any:
        date = redrive_execution(self.stepfunction_backend, self._get_param("executionArn"),
                                 self._get_param("clientToken"))
        return ActionResult({"redriveDate": date})

    describe = StepFunctionResponse.describe_execution
    if getattr(describe, "_sfnflow_redrive", False):
        return

    def describe_execution(self: Any) -> Any:
        result = describe(self)
        execution = self.stepfunction_backend.describe_execution(
            self._get_param("executionArn"))
        answer = result.result if hasattr(result, "result") else None
        if isinstance(answer, dict):
            answer["redriveCount"] = int(getattr(execution, "redrive_count", 0))
            if getattr(execution, "redrive_date", None) is not None:
                answer["redriveDate"] = execution.redrive_date
            status, reason = _redrive_status(execution, _now())
            answer["redriveStatus"] = status
            if reason is not None:
                answer["redriveStatusReason"] = reason
        return result

    describe_execution._sfnflow_redrive = True  # type: ignore[attr-defined]
    StepFunctionResponse.describe_execution = describe_execution  # type: ignore[method-assign]
    StepFunctionResponse.redrive_execution = redrive  # type: ignore[attr-defined]


def install() -> None:
    """Apply the redrive patches (``moto_patches.apply_all`` calls it once)."""
    _patch_resume_points()
    _patch_responses()
