"""Every touch of moto's internals lives here (moto is pinned exactly in pyproject.toml).

moto's Step Functions interpreter (a port of LocalStack's) is faithful for the ASL sfnflow
emits, except for the gaps patched below. Each patch is applied once, idempotently, by
``apply_all()``, and each has a test in ``tests/local/test_moto_patches.py`` so a moto
upgrade that changes behaviour fails loudly.

1. JSONata evaluation. moto ships a stub; it also composes every expression as text, by
   serialising all variables and ``$states`` into the expression (quadratic in the data, and
   strings containing ``"`` or ``\\`` break it). We evaluate with ``jsonata-python`` and pass
   variables as bindings instead, caching parsed expressions. moto's ``$hash`` is a stub
   returning a constant string; we bind the real one (sub-workflow execution names use it).
   A runtime error (``'a' + 1``) fails the state with ``States.QueryEvaluationError``, as in
   AWS, not with moto's ``States.Runtime`` wrapping a Python repr.
2. Lambda invokes dispatch in-process to registered Python handlers (no Docker here). Any
   exception a handler raises, BaseException included, is the invoke's function error. An
   invoke by a Task gets that Task's deadline (its ``TimeoutSeconds``) as its function
   timeout, and no time left at all once the Task ends without it (timed out, the
   execution stopped or timed out): ``get_remaining_time_in_millis``. The node runner
   kills a code process when its invocation's time is up, so none outlives its Task.
3. boto3 clients the interpreter creates per task are cached (halves per-task overhead),
   client creation is serialised (botocore's is not thread-safe; handlers run in threads),
   and pynamodb's models share one DynamoDB client instead of building one each.
4. The clock: Wait states, Retry intervals, Task/Parallel/Map timeouts and heartbeats and
   the ``.sync`` poll interval are multiplied by a time scale, so tests and demos do not
   spend real minutes waiting; Wait ``Timestamp`` compares timezone-aware instants.
5. ``states:startExecution`` (plain, ``.sync``, ``.sync:2``) tasks: moto's base service task
   leaves request and response normalisation empty, so the PascalCase ``Arguments``
   (``StateMachineArn``) reach boto3 unconverted (KeyError) and results keep boto3's keys
   and datetimes. We convert both ways through the botocore shapes, as AWS does, with
   dates as epoch milliseconds.
6. Retrying a ``.sync`` task: moto's retry loop re-runs the task with the callback endpoint
   the failed attempt already interrupted, so every retry "times out" at once
   (``States.Timeout``). Each attempt gets a fresh task token and endpoint, as in AWS.
7. A ``States.*`` error raised inside a Parallel branch or a Map iteration (e.g. a native
   node's ``States.QueryEvaluationError``) propagates under its name. moto re-raises branch
   errors as custom error names, which may not start with ``States.``, so the execution
   failed with ``States.Runtime`` ("Custom Error Names MUST NOT begin with ...").
8. Parsing: moto lexes and parses a definition (ANTLR, slow in Python) on every create,
   update and start; the syntax tree is kept per definition text (``_syntax_tree``) and
   each execution builds its own evaluation components from it.

Also: a stopped execution ends ABORTED even when the Task it waited for fails afterwards
(moto let that late failure turn it FAILED); SendTaskFailure keeps its ``cause`` (moto's
response layer dropped it); every
execution's start and end is announced to listeners (``on_execution_change``), so the
local cloud reacts to them instead of polling; every request moto answers with a 2xx is
announced to listeners (``on_successful_call``: ``local.persistence`` journals writes);
strings in a definition are decoded as JSON (moto kept their escapes,
so a node named ``Run "A"`` was keyed ``Run \\"A\\"``); a backend already created is
looked up without moto's process-wide lock (concurrent requests queued on it); a DynamoDB
Query of a table's key reads its partition (moto sorted and scanned the whole table).

RedriveExecution, which moto lacks, is ``local/moto_redrive.py``'s.

Last, ``apply_all`` installs the strict layer (``local/strict.py``): the AWS limits and rules
moto does not enforce, so the embedded cloud fails where AWS fails.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from local import call_recorder, moto_redrive, strict

LambdaHandler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_applied = False
_handlers: dict[str, LambdaHandler] = {}
_time_scale = 1.0
# function name -> (invokes still to answer with a 429, which invokes)
_throttled: dict[str, tuple[int, Callable[[dict[str, Any]], bool]]] = {}
_throttle_lock = threading.Lock()


# --------------------------------------------------------------------------- public knobs


def register_lambda(function_name: str, handler: LambdaHandler) -> None:
    """Route invokes of ``function_name`` (name or ARN) to ``handler(event, context)``."""
    _handlers[function_name] = handler


def set_time_scale(scale: float) -> None:
    """Multiply every interpreter wait (Wait, Retry, .sync polls) by ``scale``."""
    global _time_scale
    if scale <= 0:
        raise ValueError("time scale must be positive")
    _time_scale = scale
    _scale_sync_poll()


def time_scale() -> float:
    return _time_scale


def throttle(function_name: str, times: int,
             when: Callable[[dict[str, Any]], bool] | None = None) -> None:
    """Answer the next ``times`` invokes of ``function_name`` (a name) whose event passes
    ``when`` (default: all) the way Lambda answers when the function's concurrency is
    exhausted: HTTP 429 ``TooManyRequestsException``, which a Task sees as
    ``Lambda.TooManyRequestsException``. In-process dispatch has no concurrency limit, so
    this is how a local run rehearses throttling. ``times=0`` clears it."""
    with _throttle_lock:
        _throttled[function_name] = (times, when or (lambda _event: True))


_execution_listeners: list[Callable[[str], None]] = []


def on_execution_change(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(execution_arn)`` whenever an execution starts or ends (from moto's
    threads: it must only note and signal, e.g. ``Periodic.wake``); returns the function
    that removes it."""
    _execution_listeners.append(listener)

    def remove() -> None:
        if listener in _execution_listeners:
            _execution_listeners.remove(listener)

    return remove


_call_listeners: list[Callable[[str, Any], None]] = []


def on_successful_call(listener: Callable[[str, Any], None]) -> Callable[[], None]:
    """Call ``listener(event_name, request)`` after moto answers a botocore request with a
    2xx (``event_name``: ``before-send.<service>.<Operation>``), in the caller's thread,
    before the caller sees the answer (``local.persistence`` journals writes so); returns
    the function that removes it."""
    _call_listeners.append(listener)

    def remove() -> None:
        if listener in _call_listeners:
            _call_listeners.remove(listener)

    return remove


def apply_all() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        _patch_jsonata()
        _patch_lambda_dispatch()
        _patch_lambda_service_errors()
        _patch_client_cache()
        _patch_client_creation()  # and one loader of service models for every session
        _patch_shared_dynamodb_client()
        _patch_clock()
        _patch_start_execution_task()
        _patch_sync_task_retry()
        _patch_branch_error_names()
        _patch_atomic_dynamodb_writes()
        _patch_backend_lookup()
        _patch_partition_queries()
        _patch_transaction_restore()
        _patch_event_targets()
        _patch_distributed_map_failures()
        _patch_result_writer()
        _patch_send_task_failure_cause()
        _patch_start_on_version()
        _patch_execution_changes()
        _patch_call_listeners()
        _patch_stopped_stays_stopped()
        _patch_string_escapes()
        moto_redrive.install()
        strict.install()  # last: it wraps some of the patches above
        _applied = True


# --------------------------------------------------------------------------- 1. JSONata


_UNDEFINED = object()


@lru_cache(maxsize=4096)
def _parse_jsonata(expression: str) -> Any:
    from compiler.jsonata_compat import compile_expression

    parsed = compile_expression(expression)  # as Step Functions' JSONata evaluates it
    parsed.set_output_convert_nulls(False)  # keep JSON null apart from undefined
    parsed.register_lambda("hash", _aws_hash)
    return parsed


_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
                    "SHA-512": "sha512"}


def _aws_hash(value: Any, algorithm: Any) -> str:
    """Step Functions' JSONata ``$hash(value, algorithm)``: the hex digest of a string."""
    import hashlib

    from jsonata.jexception import JException

    if not isinstance(value, str) or algorithm not in _HASH_ALGORITHMS:
        raise JException(f"$hash: expected a string and one of {sorted(_HASH_ALGORITHMS)}", -1)
    return hashlib.new(_HASH_ALGORITHMS[algorithm], value.encode()).hexdigest()


def _evaluate(expression: str, bindings: dict[str, Any]) -> Any:
    """Evaluate; return ``_UNDEFINED`` when JSONata yields nothing (AWS treats it as an error)."""
    from jsonata.utils import Utils
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        result = _parse_jsonata(expression).evaluate(None, bindings)
    except Exception as exc:  # jsonata-python raises JException and friends
        raise JSONataException("States.QueryEvaluationError", str(exc)) from exc
    return _UNDEFINED if result is None else Utils.convert_nulls(result)


def _fail_evaluation(env: Any, cause: str) -> None:
    """Fail the state with States.QueryEvaluationError, as Step Functions does (an exception
    escaping the evaluator would fail the execution with ``States.Runtime`` instead)."""
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(cause=cause, error=error_name.error_name)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),
    )
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),
        )
    )


def _variable_bindings(env: Any) -> dict[str, Any]:
    store = env.variable_store
    return {**store._outer_scope, **store._inner_scope}


def _patch_jsonata() -> None:
    from moto.stepfunctions.parser.asl.component.common.string import string_expression as se
    from moto.stepfunctions.parser.asl.component.intrinsic.jsonata import (
        get_intrinsic_functions_declarations,
    )
    from moto.stepfunctions.parser.asl.jsonata.jsonata import (
        JSONataException,
        extract_jsonata_variable_references,
    )

    def eval_jsonata(self: Any, env: Any) -> None:
        references = extract_jsonata_variable_references(self.expression) - {"$hash"}
        functions = get_intrinsic_functions_declarations(variable_references=references)
        expression = f"({functions}{self.expression})" if functions else self.expression
        bindings = _variable_bindings(env)
        bindings["states"] = env.states._states_data
        try:
            result = _evaluate(expression, bindings)
        except JSONataException as exc:
            _fail_evaluation(env, f"The JSONata expression '{self.expression}' failed: "
                                  f"{exc.details}")
        if result is _UNDEFINED:
            _fail_evaluation(
                env, f"The JSONata expression '{self.expression}' returned nothing (undefined).")
        env.stack.append(result)

    def eval_variable_sample(self: Any, env: Any) -> None:
        bindings = _variable_bindings(env)
        if self.query_language_mode == se.QueryLanguageMode.JSONata:
            bindings["states"] = env.states._states_data
        result = _evaluate(self.expression, bindings)
        env.stack.append(None if result is _UNDEFINED else result)

    se.StringJSONata._eval_body = eval_jsonata
    se.StringVariableSample._eval_body = eval_variable_sample


# --------------------------------------------------------------------------- 2. Lambda


# Lambda's longest timeout: the remaining time of an invoke no Task's timeout bounds.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# An invoke by a Task with a TimeoutSeconds gets the Task's time left plus this, so that
# the handler's own deadline (which keeps a margin back to answer: the node runner kills a
# code process at it) falls just after the Task's States.Timeout, never before it.
TASK_DEADLINE_GRACE_SECONDS = 0.05
# .deadline: time.monotonic() at which the invoking Task times out (None: no TimeoutSeconds);
# .env: the Task's frame in moto's interpreter, running while the Task waits for the invoke.
_task = threading.local()


class InvokeContext:
    """The slice of the Lambda context object handlers (and powertools) read.

    Locally the function's timeout is the invoking Task's: once the Task times out or its
    execution ends, no one waits for the invocation any more, and whatever it started (a
    code node's process) must end then rather than at Lambda's 15 minutes."""

    def __init__(self, function_name: str, task_deadline: float | None = None,
                 task_running: Callable[[], bool] | None = None) -> None:
        import time

        from functions.handlers.node_runner import ANSWER_MARGIN_SECONDS

        limit = time.monotonic() + LAMBDA_MAX_TIMEOUT_SECONDS
        self._deadline = limit if task_deadline is None else min(
            limit, task_deadline + ANSWER_MARGIN_SECONDS + TASK_DEADLINE_GRACE_SECONDS)
        self._task_running = task_running
        self.function_name = function_name
        self.function_version = "$LATEST"
        from functions.config import Config

        self.invoked_function_arn = Config.from_env().arn("lambda", f"function:{function_name}")
        self.memory_limit_in_mb = 1024
        self.aws_request_id = "local"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        import time

        if self._task_running is not None and not self._task_running():
            return 0
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _handler_for(function_name: str) -> LambdaHandler | None:
    name = function_name.split(":function:")[-1].split(":")[0]
    return _handlers.get(function_name) or _handlers.get(name)


def _patch_lambda_dispatch() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        handler = _handler_for(function_name)
        if handler is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        event = json.loads(body) if body else {}
        if (headers or {}).get("X-Amz-Invocation-Type") == "Event":  # accepted: 202
            invoke_registered(function_name, event)
            return b""
        name = function_name.split(":function:")[-1].split(":")[0]
        _take_throttle(name, event)
        try:
            with call_recorder.running(name):
                task_env = getattr(_task, "env", None)
                context = InvokeContext(name, getattr(_task, "deadline", None),
                                        task_env.is_running if task_env is not None else None)
                result = handler(event, context)
        # The Lambda runtime reports any exception that escapes, BaseException included (a
        # SystemExit, a KeyboardInterrupt): one escaping here would end moto's Task thread
        # without a word, and the execution would stay RUNNING for good.
        except BaseException as exc:  # noqa: BLE001
            response_headers["x-amz-function-error"] = "Unhandled"
            error_type = getattr(exc, "error_type", None) or type(exc).__name__
            payload = {
                "errorType": error_type,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
            return json.dumps(payload).encode()
        return json.dumps(result).encode()

    LambdaSimpleBackend.invoke = invoke
    _patch_task_deadline()


def _patch_task_deadline() -> None:
    """Tell the invocation when its Task times out and whether it still runs (``_task``,
    read by ``invoke`` above): a Lambda Task invokes in the thread that evaluates it."""
    import time

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    original = StateTaskLambda._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        deadline = None
        if not self.timeout.is_default_value():
            self.timeout.eval(env=env)  # scaled by the clock patch (4.)
            deadline = time.monotonic() + env.stack.pop()
        previous = getattr(_task, "deadline", None), getattr(_task, "env", None)
        _task.deadline, _task.env = deadline, env
        try:
            original(self, env)
        finally:
            _task.deadline, _task.env = previous

    StateTaskLambda._eval_execution = eval_execution


def _take_throttle(name: str, event: Any) -> None:
    from moto.core.exceptions import JsonRESTError

    with _throttle_lock:
        left, when = _throttled.get(name, (0, None))
        if left <= 0 or when is None or not when(event):
            return
        _throttled[name] = (left - 1, when)
    error = JsonRESTError("TooManyRequestsException", "Rate Exceeded.")
    error.code = 429
    raise error


def _patch_lambda_service_errors() -> None:
    """A Task with a Lambda function ARN as its Resource names an Invoke that the Lambda
    service refuses (throttle, 5xx) ``Lambda.<error code>`` on AWS, so a Retry can match
    ``Lambda.TooManyRequestsException``; moto names every such error ``Exception``."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = StateTaskLambda._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error = f"Lambda.{ex.response['Error']['Code']}"
        return FailureEvent(
            env=env, error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=EventDetails(lambdaFunctionFailedEventDetails=(
                LambdaFunctionFailedEventDetails(
                    error=error, cause=ex.response["Error"].get("Message", "")))))

    StateTaskLambda._from_error = from_error


# --------------------------------------------------------------------------- 3. clients


def _patch_client_cache() -> None:
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    cache: dict[tuple[str, str, bool], Any] = {}
    cache_lock = threading.Lock()

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber

        key = (region, service, botocore_stubber.enabled)
        with cache_lock:
            if key not in cache:  # the interpreter's Task calls: the state machine's role
                cache[key] = call_recorder.mark_client(
                    original(region, service, state_credentials), call_recorder.STATE_MACHINE)
            return cache[key]

    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("moto.stepfunctions") and hasattr(module, "boto_client_for"):
            module.boto_client_for = cached_client_for


# botocore's client creation is not thread-safe (it walks shared dictionaries of the
# session's loaders and event handlers while another thread fills them: "dictionary changed
# size during iteration"). A Lambda container runs one invocation at a time, so the handlers
# create their clients lazily without a lock; the local cloud runs many invocations at once
# in threads (Parallel branches, Map iterations), so it serialises client creation.
_CLIENT_CREATION = threading.RLock()


def _patch_client_creation() -> None:
    import botocore.session  # boto3's clients and pynamodb's both come from here

    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _CLIENT_CREATION:
            return original(self, *args, **kwargs)

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    _share_service_models(botocore.session.Session)


def _share_service_models(session_class: Any) -> None:
    """Every botocore session of the process reads the service models, endpoints and
    partitions through one loader. A session parses those JSON files itself, and pynamodb
    makes a new session per connection: an embedded cloud opened ~20 sessions and spent
    0.6 s in ``json.loads`` of files it had already read. The loader caches what it has
    parsed and botocore never changes it; clients are created under ``_CLIENT_CREATION``."""
    import botocore.loaders

    shared = botocore.loaders.create_loader()

    def register_data_loader(self: Any) -> None:
        self._components.lazy_register_component("data_loader", lambda: shared)

    session_class._register_data_loader = register_data_loader


def _patch_shared_dynamodb_client() -> None:
    """Every pynamodb model shares one DynamoDB client (per region, endpoint and whether
    moto intercepts). pynamodb builds a botocore client per model connection, and
    ``bind_tables`` drops the connections on every new cloud: 14 clients (~35 ms each)
    per cloud, most of an embedded cloud's warm open and of the first node run. A botocore
    client is safe to share between threads once built; a connection with extra headers
    or a client without credentials keeps pynamodb's own."""
    from pynamodb.connection.base import Connection

    original = Connection.client
    shared: dict[tuple[Any, ...], Any] = {}

    def client(self: Any) -> Any:
        from moto.core.models import botocore_stubber

        if self._extra_headers is not None or self._client is not None:
            return original.fget(self)
        key = (self.region, self.host, botocore_stubber.enabled, self._connect_timeout_seconds,
               self._read_timeout_seconds, self._max_pool_connections,
               str(self._retry_configuration), self._max_retry_attempts_exception)
        found = shared.get(key)  # every DynamoDB call asks: no lock once built
        if found is not None and _signs(found):
            return found
        with _CLIENT_CREATION:
            found = shared.get(key)
            if found is None or not _signs(found):
                found = shared[key] = original.fget(self)
                self._client = None  # built for all: not this connection's own
            return found

    assert isinstance(original, property)
    Connection.client = property(client)  # type: ignore[method-assign,assignment]


def _signs(client: Any) -> bool:
    """pynamodb's own test: a client whose signer lost its credentials is rebuilt."""
    return not (client._request_signer and not client._request_signer._credentials)


# --------------------------------------------------------------------------- 4. clock

_SYNC_POLL_SECONDS = 0.5


def _scale_sync_poll() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )

    callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = _SYNC_POLL_SECONDS * _time_scale


class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __init__(self) -> None:
        import time

        self._time = time

    def sleep(self, seconds: float) -> None:
        self._time.sleep(seconds * _time_scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._time, name)


def _patch_clock() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        wait_function,
    )

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        # moto re-waits on int() rounding; a scaled wait must not, so replace it whole.
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * _time_scale)

    wait_function.WaitFunction._wait_interval = wait_interval
    retrier_decl.time = _ScaledTime()
    _scale_sync_poll()
    _patch_timeouts()
    _patch_wait_timestamp()


def _patch_timeouts() -> None:
    """Task/Parallel/Map TimeoutSeconds and HeartbeatSeconds follow the time scale too."""
    from moto.stepfunctions.parser.asl.component.common.timeouts import heartbeat, timeout

    default = timeout.TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS

    def scaled(self: Any, env: Any) -> None:
        seconds = self._eval_seconds(env=env)
        env.stack.append(seconds if seconds >= default else seconds * _time_scale)

    timeout.Timeout._eval_body = scaled
    heartbeat.Heartbeat._eval_body = scaled


def _patch_wait_timestamp() -> None:
    """Wait ``Timestamp``: moto compares a naive UTC parse with naive *local* time and
    rejects offsets; compare timezone-aware instants instead."""
    from datetime import UTC, datetime

    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp

    def wait_seconds(self: Any, env: Any) -> float:
        self.string.eval(env=env)
        text = env.stack.pop()
        moment = parse(text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return (moment - datetime.now(UTC)).total_seconds()

    def parse(text: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None

    timestamp.Timestamp._get_wait_seconds = wait_seconds
    timestamp.Timestamp._from_timestamp_string = staticmethod(parse)


# --------------------------------------------------------------------------- 5. sfn tasks


def _epoch_millis(value: Any) -> Any:
    """AWS gives dates in service-integration results as epoch milliseconds."""
    from datetime import datetime

    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(inner) for inner in value]
    return value


def _patch_start_execution_task() -> None:
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_task,
    )
    from moto.stepfunctions.parser.utils import camel_to_snake_case

    service_model = botocore.session.get_session().get_service_model("stepfunctions")
    operations = {camel_to_snake_case(name): name for name in service_model.operation_names}
    task_class = sfn_task.StateTaskServiceSfn
    original_parameters = task_class._normalise_parameters

    def operation(self: Any, service_action_name: str | None) -> Any:
        action = self._get_boto_service_action(service_action_name)
        return service_model.operation_model(operations[action])

    def normalise_parameters(self: Any, parameters: dict[str, Any],
                             boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        shape = operation(self, service_action_name).input_shape
        if shape is not None:
            self._to_boto_request(parameters, shape)

    def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                           service_action_name: str | None = None) -> None:
        shape = operation(self, service_action_name).output_shape
        if shape is None or not isinstance(response, dict):
            return
        self._from_boto_response(response, shape)
        response.update(_epoch_millis(response))

    task_class._normalise_parameters = normalise_parameters
    task_class._normalise_response = normalise_response


# --------------------------------------------------------------------------- 6. .sync retry


def _patch_sync_task_retry() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: E501
        ResourceCondition,
    )

    task_class = callback.StateTaskServiceCallback
    original = task_class._eval_integration_pattern

    def eval_integration_pattern(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        sync = self.resource.condition in (ResourceCondition.Sync, ResourceCondition.Sync2)
        if sync and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns:
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        original(self, env, *args, **kwargs)

    task_class._eval_integration_pattern = eval_integration_pattern


# --------------------------------------------------------------------------- 7. branch errors


def _patch_branch_error_names() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import (
        branches_decl,
    )

    def error_name(error_name: str | None) -> Any:
        if error_name is not None and error_name.startswith("States."):
            try:
                return StatesErrorName.from_name(error_name)
            except Exception:  # noqa: BLE001 - not one of the States.* names moto knows
                pass
        return CustomErrorName(error_name=error_name)

    branches_decl.CustomErrorName = error_name
    iteration_worker.CustomErrorName = error_name


# --------------------------------------------------------------------------- 8. atomic writes


_dynamodb_write_lock = threading.RLock()


def _patch_atomic_dynamodb_writes() -> None:
    """DynamoDB applies each write atomically; moto's backend reads, changes and stores an
    item without a lock, so two concurrent UpdateItems (Parallel branches counting their
    finishes for a ``waitFor: N`` Merge) can lose one of the updates. One lock around every
    item write makes them atomic again. The same lock holds for each whole request moto's
    DynamoDB answers (``DynamoHandler.call_action``), because moto turns the item it
    changed or read into its answer after the backend returns: a concurrent UpdateItem of
    that item changed its attributes mid-way ("dictionary changed size during iteration",
    two rendezvous signals of one item). DynamoDB answers each request from one state of
    the item."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    if not getattr(call_action, "_sfnflow_atomic", False):
        def atomic_request(self: Any) -> Any:
            with _dynamodb_write_lock:
                return call_action(self)

        atomic_request._sfnflow_atomic = True  # type: ignore[attr-defined]
        DynamoHandler.call_action = atomic_request  # type: ignore[method-assign]

    for method_name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, method_name)
        if getattr(original, "_sfnflow_atomic", False):
            continue

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _dynamodb_write_lock:
                return _original(self, *args, **kwargs)

        atomic._sfnflow_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, method_name, atomic)


def _patch_backend_lookup() -> None:
    """Every request moto answers looks its service's backend up by account, and moto takes
    one process-wide lock for each look-up, even for an account it already has. In-process
    dispatch answers hundreds of requests at once from many threads (server threads,
    Parallel branches, Map iterations, event deliveries): they queued on that lock, a
    handover per GIL switch, and 500 starts through ``sfnflow serve`` spent most of their
    time waiting there. An account already present is returned without the lock; the
    first look-up of an account still creates it under the lock, as moto does (moto's
    reset clears the accounts and its list of used backends together, under the lock)."""
    from moto.core.base_backend import BackendDict

    original = BackendDict.__getitem__
    if getattr(original, "_sfnflow_unlocked", False):
        return
    present = dict.get

    def getitem(self: Any, account_id: str) -> Any:
        found = present(self, account_id)
        return found if found is not None else original(self, account_id)

    getitem._sfnflow_unlocked = True  # type: ignore[attr-defined]
    BackendDict.__getitem__ = getitem  # type: ignore[method-assign]


class _Partition:
    """A moto table seen through one partition: ``all_items`` yields only its items."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        found = self._table.items.get(self._hash_key)  # a defaultdict: .get adds nothing
        if found is None:
            return []
        if not self._table.range_key_attr:
            return [found]
        return sorted(found.values(), key=lambda item: item.range_key)


def _patch_partition_queries() -> None:
    """A Query of a table's own key reads that partition, as DynamoDB does. moto sorted
    and scanned every item of the table for each one, so reading one execution's node runs
    or progress events grew with every execution ever run: hundreds of executions made
    each Query cost ~15 ms. Index queries (GSIs, LSIs) are left to moto."""
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "_sfnflow_partition", False):
        return

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        return original(_Partition(self, hash_key), hash_key, *args, **kwargs)

    query._sfnflow_partition = True  # type: ignore[attr-defined]
    Table.query = query


class _Unchanged:
    """Stands in for ``copy`` inside moto's DynamoDB backend, whose TransactWriteItems
    deep-copied every table it touched to restore it when the transaction is cancelled:
    O(items) per transaction (the statistics table keeps a marker per execution counted,
    the run tables an item per node run). The "copy" of a table is the table itself, and
    ``_patch_transaction_restore`` restores the items the transaction wrote instead."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        import copy

        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        import copy

        return getattr(copy, name)


def _written_keys(backend: Any, transact_items: list[dict[str, Any]]
                  ) -> list[tuple[Any, Any, Any]]:
    """(table, hash key, range key) of every item a transaction writes or checks."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op.get("Key") or op.get("Item") or {}
        hash_value = key.get(table.hash_key_attr)
        range_value = key.get(table.range_key_attr) if table.range_key_attr else None
        if hash_value is not None:
            keys.append((table, DynamoType(hash_value),
                         DynamoType(range_value) if range_value is not None else None))
    return keys


def _patch_transaction_restore() -> None:
    """A cancelled TransactWriteItems restores the items it wrote, and only those (see
    ``_Unchanged``); it runs under the DynamoDB write lock, so no other write interleaves."""
    import copy

    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "_sfnflow_restores", False):
        return
    models.copy = _Unchanged()  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _dynamodb_write_lock:
            written = _written_keys(self, transact_items)
            before = [(table, hash_key, range_key,
                       copy.deepcopy(table.get_item(hash_key, range_key)
                                     if not table.range_key_attr or range_key else None))
                      for table, hash_key, range_key in written]
            try:
                return original(self, transact_items)
            except Exception:
                for table, hash_key, range_key, item in reversed(before):
                    _restore(table, hash_key, range_key, item)
                raise

    transact_write_items._sfnflow_restores = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if table.range_key_attr:
        partition = table.items[hash_key]
        if item is None:
            partition.pop(range_key, None)
        else:
            partition[range_key] = item
        if not partition:
            del table.items[hash_key]
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item


# --------------------------------------------------------------------------- 9. EventBridge


# Lambda's asynchronous invocation: the first attempt and its retries (the stack's
# ``ASYNC_RETRIES``), then the function's OnFailure destination (see ``set_async_failures``).
ASYNC_ATTEMPTS = 3
# (send(record_json), function name -> ARN), or None: failures are only logged
_async_failures: tuple[Callable[[str], None], Callable[[str], str]] | None = None


def set_async_failures(send: Callable[[str], None] | None,
                       function_arn: Callable[[str], str] = lambda name: name) -> None:
    """Where asynchronous invocations that failed every attempt go: ``send`` gets the
    failure record Lambda writes to an ``OnFailure`` destination (the local cloud sends it
    to its dead-letter queue, as the stack configures every asynchronously invoked
    function); None only logs them."""
    global _async_failures
    _async_failures = None if send is None else (send, function_arn)


def _failure_record(function_arn: str, payload: Any, exc: BaseException) -> str:
    """Lambda's documented OnFailure record of an asynchronous invocation."""
    import uuid
    from datetime import UTC, datetime

    return json.dumps({
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"),
        "requestContext": {"requestId": str(uuid.uuid4()),
                           "functionArn": f"{function_arn}:$LATEST",
                           "condition": "RetriesExhausted",
                           "approximateInvokeCount": ASYNC_ATTEMPTS},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorType": getattr(exc, "error_type", None)
                            or type(exc).__name__, "errorMessage": str(exc)},
    }, default=str)


def invoke_registered(function: str, payload: Any) -> bool:
    """Invoke a handler registered with ``register_lambda`` the way EventBridge and
    Scheduler invoke Lambda targets (asynchronously): the result is dropped; an exception
    is retried as Lambda retries an asynchronous invocation (``ASYNC_ATTEMPTS`` in all, at
    once: the local clock has no backoff to wait), then logged and sent to the failure
    destination, never raised to the sender. Returns whether a handler was registered for
    ``function`` (a name or ARN)."""
    import logging

    handler = _handler_for(function)
    if handler is None:
        return False
    name = function.split(":function:")[-1].split(":")[0]
    for attempt in range(1, ASYNC_ATTEMPTS + 1):
        try:
            with call_recorder.running(name):
                handler(payload, InvokeContext(name))
            return True
        except Exception as exc:  # noqa: BLE001 - the Lambda service logs and retries it
            if attempt < ASYNC_ATTEMPTS:
                continue
            logging.getLogger("sfnflow.local").exception("Lambda target %s failed", name)
            destination = _async_failures
            if destination is not None:
                send, arn_of = destination
                try:
                    send(_failure_record(arn_of(name), payload, exc))
                except Exception:  # noqa: BLE001 - a destination that fails drops the record
                    logging.getLogger("sfnflow.local").exception(
                        "Lambda target %s: failure destination refused the record", name)
    return True


_MISSING = object()
_PLACEHOLDER = __import__("re").compile(r"<([A-Za-z0-9_.\-]+)>")


def _event_path(event: Any, path: str) -> Any:
    """EventBridge's JSONPath subset: ``$``, ``$.a.b``, ``$.a[0].b``."""
    import re

    if not path.startswith("$"):
        return _MISSING
    value = event
    for key, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:]):
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _fill_template(template: str, values: dict[str, Any]) -> str:
    """An InputTemplate with ``<name>`` replaced: inside a JSON string by the value's text
    (escaped), elsewhere by its JSON; a missing variable is ``null`` / empty."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and in_string:
            out.append(template[i:i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, i)
            if match is not None:
                value = values.get(match.group(1), _MISSING)
                if value is _MISSING and in_string:
                    text = ""
                elif value is _MISSING:
                    text = "null"
                elif in_string:
                    raw = value if isinstance(value, str) else json.dumps(value)
                    text = json.dumps(raw)[1:-1]
                else:
                    text = json.dumps(value)
                out.append(text)
                i = match.end()
                continue
        out.append(char)
        i += 1
    return "".join(out)


def event_target_input(target: dict[str, Any], event: dict[str, Any], rule_name: str,
                       rule_arn: str, ingestion_time: str) -> str:
    """The text EventBridge sends a target for ``event``: ``Input``, ``InputPath`` or
    ``InputTransformer`` (with the predefined ``aws.events.*`` variables: ``event`` is the
    event without ``detail``, ``event.json`` the whole event), else the event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        selected = _event_path(event, target["InputPath"])
        return json.dumps(None if selected is _MISSING else selected)
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        selected = _event_path(event, path)
        if selected is not _MISSING:
            values[name] = selected
    values.update({
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": ingestion_time,
    })
    return _fill_template(str(transformer["InputTemplate"]), values)


_event_clients: dict[tuple[str, str], Any] = {}


def _event_client(service: str, region: str) -> Any:
    import boto3

    key = (service, region)
    if key not in _event_clients:
        _event_clients[key] = boto3.client(service, region_name=region)
    return _event_clients[key]


def _deliver(rule: Any, target: dict[str, Any], event: dict[str, Any],
             transform_input: bool) -> bool:
    """Deliver to a Step Functions or in-process Lambda target; False for any other."""
    import hashlib
    import logging
    from datetime import UTC, datetime

    arn = str(target["Arn"])
    is_machine = ":states:" in arn and ":stateMachine:" in arn
    if not is_machine and not (":lambda:" in arn and _handler_for(arn) is not None):
        return False
    shaped = dict(event)
    ingested = shaped.pop("ingestion-time", None) or datetime.now(UTC).timestamp()
    if isinstance(shaped.get("time"), int | float):
        shaped["time"] = datetime.fromtimestamp(float(shaped["time"]), UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    ingestion_time = datetime.fromtimestamp(float(ingested), UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    text = (event_target_input(target, shaped, rule.name, rule.arn, ingestion_time)
            if transform_input else json.dumps(shaped))
    if not is_machine:
        invoke_registered(arn, json.loads(text))
        return True
    # One execution per (event, rule, target): a redelivered event starts nothing new.
    digest = hashlib.sha256(f"{rule.arn}|{target['Id']}".encode()).hexdigest()[:12]
    name = f"{shaped.get('id', '')}"[:60] + "-" + digest
    sfn = _event_client("stepfunctions", arn.split(":")[3])
    try:  # EventBridge starts it with the target's role
        with call_recorder.acting_as_role(str(target.get("RoleArn") or "events.amazonaws.com")):
            sfn.start_execution(stateMachineArn=arn, name=name, input=text)
    except sfn.exceptions.ExecutionAlreadyExists:
        pass
    except Exception:  # noqa: BLE001 - EventBridge retries, then drops (or a DLQ)
        logging.getLogger("sfnflow.local").exception(
            "rule %s could not start %s", rule.name, arn)
    return True


def _patch_event_targets() -> None:
    """moto delivers rule matches only to SQS, Logs, archives and buses (others raise
    NotImplementedError) and ignores a rule's DISABLED state. Deliver to Step Functions
    state machines (StartExecution with the target's Input / InputPath /
    InputTransformer) and to Lambda handlers registered in-process, skip disabled rules,
    and leave the other targets to moto."""
    import copy

    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
            return
        others = [target for target in self.targets
                  if not _deliver(self, target, dict(original_event), transform_input)]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, original_event, transform_input)

    Rule.send_to_targets = send_to_targets


# --------------------------------------------------------------------------- 9. Distributed Map


def _patch_distributed_map_failures() -> None:
    """In moto a failed Distributed Map iteration becomes ``null`` and the Map succeeds. In
    Step Functions, once more iterations fail than tolerated (none by default), the Map
    Run fails and the Map state fails with ``States.ExceedToleratedFailureThreshold``.
    ToleratedFailure* are parsed but ignored by moto, so every failure fails the Map (the
    default, and what sfnflow compiles: ``ToleratedFailurePercentage: 0``)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (  # noqa: E501
        distributed_item_processor_worker as worker_module,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped

    worker_class = worker_module.DistributedItemProcessorWorker
    original = worker_class._eval_job
    if getattr(original, "_sfnflow_fails_map", False):
        return

    def eval_job(self: Any, env: Any, job: Any) -> None:
        original(self, env, job)
        state = env.program_state()
        if isinstance(state, ProgramStopped):
            return
        if not isinstance(state, ProgramError) and job.job_output is not None:
            return
        detail = getattr(state, "error", None) or {}
        error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
        cause = (f"The Map Run failed: item {job.job_index} failed"
                 + (f" with {detail.get('error')}: {detail.get('cause') or ''}"
                    if detail.get("error") else ""))
        job.job_output = FailureEventException(FailureEvent(
            env=env,
            error_name=StatesErrorName(
                typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(
                error=error, cause=cause)),
        ))

    eval_job._sfnflow_fails_map = True  # type: ignore[attr-defined]
    worker_class._eval_job = eval_job


def _patch_result_writer() -> None:
    """A Distributed Map's ``ResultWriter`` (``s3:putObject``) writes what Step Functions
    writes — result files and manifest (``local.result_writer``) — where moto wrote an empty
    manifest and dropped the children's results."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: E501
        resource_eval_s3,
    )
    from moto.stepfunctions.parser.asl.parse import asl_parser

    from local import result_writer

    evaluator = resource_eval_s3.ResourceEvalS3
    if getattr(evaluator._handle_put_object, "_sfnflow_results", False):
        return
    def parse_jsonata_writer(definition: str) -> Any:
        return _parse(result_writer.for_moto(definition))

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse_jsonata_writer)
    asl_parser.Preprocessor.visitResult_writer_decl = _writer_parameters_anywhere(
        asl_parser.Preprocessor.visitResult_writer_decl)

    def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any
                          ) -> None:
        parameters = {  # the Arguments (as Parameters: for_moto), JSONata evaluated here
            key: value if result_writer.jsonata_expression(value) is None
            else _evaluate(str(result_writer.jsonata_expression(value)),
                           _variable_bindings(env))
            for key, value in env.stack.pop().items()}
        outputs = env.stack.pop()  # the child executions' outputs, in item order
        s3 = evaluator._get_s3_client(resource_runtime_part=resource_runtime_part,
                                      state_credentials=state_credentials)
        map_run = env.map_run_record_pool_manager.get_all().pop()
        machine = env.states.context_object.context_object_data.get("StateMachine", {})
        env.stack.append(result_writer.write_results(
            s3, parameters["Bucket"], parameters.get("Prefix", ""), map_run.map_run_arn,
            list(outputs or []), state_machine_arn=machine.get("Id", "")))

    handle_put_object._sfnflow_results = True  # type: ignore[attr-defined]
    evaluator._handle_put_object = staticmethod(handle_put_object)


# Definitions whose syntax tree is kept: one per state machine revision a run uses.
PARSED_DEFINITIONS = 128


@lru_cache(maxsize=PARSED_DEFINITIONS)
def _syntax_tree(definition: str) -> Any:
    """moto's ANTLR lexing and parsing of a definition (its syntax errors raised as moto
    raises them), once per definition text. moto parses on every CreateStateMachine,
    UpdateStateMachine and StartExecution, and ANTLR's Python runtime made that the
    largest part of an execution's CPU time (~25 ms for three states). The tree is only
    read afterwards, so executions of one definition share it."""
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        ASLParserException,
        SyntaxErrorListener,
    )

    errors = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    tree = parser.state_machine()
    if errors.errors:
        raise ASLParserException(errors=errors.errors)
    return tree


def _parse(definition: str) -> tuple[Any, Any]:
    """``AmazonStateLanguageParser.parse``: the shared syntax tree, and evaluation
    components built fresh from it (they hold an execution's state), as moto builds them."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import Preprocessor

    tree = _syntax_tree(definition)
    return Preprocessor().visit(tree), tree


def _writer_parameters_anywhere(visit: Callable[..., Any]) -> Callable[..., Any]:
    """moto's preprocessor refuses ``Parameters`` in a JSONata state; a ResultWriter's (the
    renamed ``Arguments``: ``result_writer.for_moto``) is read as in a JSONPath scope."""
    from moto.stepfunctions.parser.asl.component.common.query_language import (
        QueryLanguage,
        QueryLanguageMode,
    )

    def visit_writer(self: Any, ctx: Any) -> Any:
        self._query_language_per_scope.append(QueryLanguage(QueryLanguageMode.JSONPath))
        try:
            return visit(self, ctx)
        finally:
            self._query_language_per_scope.pop()

    return visit_writer


# --------------------------------------------------------------------------- SendTaskFailure


def _patch_send_task_failure_cause() -> None:
    """SendTaskFailure keeps its ``cause``: moto's response layer passes only ``error`` on,
    so a Catch saw ``Cause: null`` (a rejected wait's reason was lost, and JSONata reading
    the cause as a string failed)."""
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.send_task_failure
    if getattr(original, "_sfnflow_cause", False):
        return

    def send_task_failure(self: Any) -> Any:
        from moto.core.responses import EmptyResult

        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"),
            cause=self._get_param("cause"))
        return EmptyResult()

    send_task_failure._sfnflow_cause = True  # type: ignore[attr-defined]
    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]


# --------------------------------------------------------------------------- versions


_version_lock = threading.Lock()


def _patch_start_on_version() -> None:
    """StartExecution on a published version's ARN (``<machine>:<n>``) runs that version,
    as in AWS: moto 5.2.5's interpreter looked the version up and then failed
    (``StateMachineVersion`` has no executions). The execution belongs to the machine (its
    ARN is ``execution:<machine>:<name>``, ``stateMachineArn`` unqualified) and runs the
    version's definition and role, whatever the machine's latest revision says."""
    from moto.stepfunctions.models import StateMachineVersion
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_sfnflow_versions", False):
        return

    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        machine = self.describe_state_machine(state_machine_arn)
        if not isinstance(machine, StateMachineVersion):
            return original(self, state_machine_arn, *args, **kwargs)
        source = self.describe_state_machine(machine.source_arn)
        with _version_lock:  # the interpreter snapshots the machine as it starts
            latest = (source.definition, source.roleArn)
            source.definition, source.roleArn = machine.definition, machine.roleArn
            try:
                return original(self, machine.source_arn, *args, **kwargs)
            finally:
                source.definition, source.roleArn = latest

    start_execution._sfnflow_versions = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    _patch_delete_version()


def _patch_delete_version() -> None:
    """DeleteStateMachineVersion, which moto 5.2.5 does not implement: the version is
    gone (a version that does not exist is no error); running executions go on."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def delete_state_machine_version(self: Any) -> Any:
        version_arn = str(self._get_param("stateMachineVersionArn"))
        source_arn, _, number = version_arn.rpartition(":")
        machine = next((m for m in self.stepfunction_backend.state_machines
                        if m.arn == source_arn), None)
        if machine is not None and number.isdigit():
            machine.versions.pop(int(number), None)
        return EmptyResult()

    StepFunctionResponse.delete_state_machine_version = (  # type: ignore[attr-defined]
        delete_state_machine_version)


# --------------------------------------------------------------------------- status changes


def _patch_call_listeners() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    answer = BotocoreStubber.__call__

    def answered(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        response = answer(self, event_name, request, **kwargs)
        if _call_listeners and response is not None and response.status_code < 300:
            for listener in tuple(_call_listeners):
                listener(event_name, request)
        return response

    BotocoreStubber.__call__ = answered  # type: ignore[method-assign]


def _announce_execution_change(execution_arn: str) -> None:
    for listener in list(_execution_listeners):
        try:
            listener(execution_arn)
        except Exception:  # noqa: BLE001 - a listener must not fail an execution
            logging.getLogger("sfnflow.local").exception("execution listener failed")


def _patch_execution_changes() -> None:
    """Announce every execution's start and end (``on_execution_change``): the local
    status-change emitter reacts to them instead of listing every execution every 50 ms,
    which kept an idle ``sfnflow serve`` busy (issue 11)."""
    from moto.stepfunctions.parser.backend import execution

    start, terminated = (execution.Execution.start,
                         execution.BaseExecutionWorkerCommunication.terminated)

    def announced_start(self: Any) -> None:
        start(self)
        _announce_execution_change(self.exec_arn)

    def announced_terminated(self: Any) -> None:
        terminated(self)
        _announce_execution_change(self.execution.exec_arn)

    execution.Execution.start = announced_start
    execution.BaseExecutionWorkerCommunication.terminated = announced_terminated


def _patch_stopped_stays_stopped() -> None:
    """StopExecution ends an execution ABORTED, whatever its running Task answers later.
    moto waits for that Task, and its failure (the node runner's, once the stop killed the
    code process) set the program's state to an error over the stop: FAILED."""
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped, ProgramTimedOut

    original = Environment.set_error

    def set_error(self: Any, error: Any) -> None:
        if isinstance(self.program_state(), ProgramStopped | ProgramTimedOut):
            return  # already final
        original(self, error)

    Environment.set_error = set_error


def _patch_string_escapes() -> None:
    """A string in a definition (a key of ``Arguments``, a state name, ...) is JSON: moto's
    preprocessor stripped its quotes but kept its escapes, so a node named ``Run "A"``
    reached the runner as the key ``Run \\"A\\"``. Step Functions decodes it."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = Preprocessor._inner_string_of

    def inner_string_of(parser_rule_context: Any) -> str | None:
        text = original(parser_rule_context)
        return json.loads(f'"{text}"') if text is not None and "\\" in text else text

    Preprocessor._inner_string_of = staticmethod(inner_string_of)
