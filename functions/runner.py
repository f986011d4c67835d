"""Run one node over its input items and record the run: the node-runner Lambda's logic.

The event is built by the compiler (``compiler.passes.emit.runner_arguments``): the node's
definition, where each input port's items come from, the predecessors' outputs (``data``),
the attempt number and whether the node is pinned. The result is the node's outputs,
``{"ports": [{"count": n, "items": [...]}, ...]}``, which the state machine assigns to the
node's variable.

n8n semantics kept here: a node with no input items does not run (nothing is recorded);
a pinned node does not run, its pinned items are its output; a disabled node passes its
input items through. Every run that starts is recorded, including failed ones, *before*
the error goes back to Step Functions for Retry/Catch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compiler.nodetypes import NODE_TYPES
from functions import metrics
from functions.credentials import NODE_CREDENTIALS_KEY, REDACTOR
from functions.errors import NodeError, ParameterError, PayloadTooLarge
from functions.expressions import Item, Scope
from functions.fused import run_chain
from functions.nodes import get_executor
from functions.nodes.base import NodeContext, Ports
from functions.services.cache import NodeResultCache
from functions.services.execution_metrics import count_node_run
from functions.services.node_guards import NodeGuards
from functions.store.repository import NodeRun, RunRepository, utc_now
from functions.tracing import annotate_run

# A child of the node-runner Lambda's logger: its lines carry the correlation keys the
# handler appends (``functions.tracing``).
logger = Logger(service="sfnflow-node-runner", child=True)

#: The one home of "extras the run keeps": what an executor hands the runner in
#: ``ctx.extras`` that is recorded on its node run (extras key -> ``NodeRun`` field). The
#: agent node's token counts (model -> inputTokens, outputTokens, totalTokens, modelCalls)
#: are priced in the execution's cost (``functions.costs``).
KEPT_EXTRAS: dict[str, str] = {"modelUsage": "model_usage",
                               "consumedCapacity": "consumed_capacity"}

MAX_INLINE_OUTPUT = 200_000  # bytes: leaves room in a 256 KiB state for everything else


class RunnerEvent(BaseModel):
    """What the compiled state machines send the node runner (extra fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


_E = TypeVar("_E", bound=RunnerEvent)


def parse_event(model: type[_E], event: Any, what: str) -> _E:
    """``event`` as ``model``; a malformed one is a ParameterError naming ``what``."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise ParameterError(f"malformed {what} event: {exc}") from None


class CacheSpec(RunnerEvent):
    ttlSeconds: int


class NodeSpec(RunnerEvent):
    name: str
    type: str
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("parameters", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        """The compiler sends parameters JSON-encoded (see ``compiler.passes.emit``)."""
        return json.loads(value) if isinstance(value, str) else value
    onError: str = "stopWorkflow"
    disabled: bool = False
    outputs: list[str] = Field(default_factory=lambda: ["main"])
    cache: CacheSpec | None = None  # reuse outputs for the same input (functions.services.cache)
    # shared across executions (functions.services.node_guards): the model's fields as dicts
    circuitBreaker: dict[str, Any] | None = None
    rateLimit: dict[str, Any] | None = None
    # n8n node types (compiler.lowering.task.n8n_arguments; functions.nodes.n8n reads them)
    typeVersion: float | None = None
    alwaysOutputData: bool = False
    executeOnce: bool = False
    n8n: str | None = None  # JSON: the workflow's connections, time zone, execution order
    credentials: dict[str, Any] | None = None  # {name, type?}: functions.credentials


class Source(RunnerEvent):
    from_: str = Field(alias="from")
    output: int = 0


class ExecutionRef(RunnerEvent):
    id: str
    arn: str | None = None
    startTime: str | None = None


class Invocation(RunnerEvent):
    workflow: str
    execution: ExecutionRef
    node: NodeSpec
    inputs: list[list[Source]] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    runIndex: int = 0
    outputRefs: bool = False  # every consumer resolves references: large outputs may be one
    pinned: bool = False
    reuseFrom: str | None = None  # a retry: the execution whose recorded output to reuse
    skipped: bool = False  # outside a partial run: outputs nothing, records nothing
    trigger: Any = None
    vars: dict[str, Any] | None = None  # the workflow variables, when it has any
    taskToken: str | None = None  # a wait that pauses (compiler.lowering.resume)
    waitExpired: bool = False  # that wait timed out and the workflow goes on
    wait: dict[str, Any] = Field(default_factory=dict)  # its mode and timeoutSeconds


def _ports(outputs: Ports, ref: str | None = None) -> dict[str, Any]:
    """The node's result. With ``ref`` the items stay in S3 and only counts travel (items
    are left out, so a state that reads them inline fails loudly instead of seeing none)."""
    if ref is not None:
        return {"ports": [{"count": len(items), "ref": ref} for items in outputs]}
    return {"ports": [{"count": len(items), "items": items} for items in outputs]}


def input_items(repository: RunRepository, inputs: list[list[Source]],
                data: dict[str, Any]) -> Ports:
    """Items per input port (``inputs``: where each port's items come from; ``data``: the
    predecessors' outputs), resolving outputs that travel as S3 references."""
    loaded: dict[str, list[list[Item]]] = {}
    ports: Ports = []
    for sources in inputs:
        items: list[Item] = []
        for source in sources:
            port_list = (data.get(source.from_) or {}).get("ports") or []
            if source.output < len(port_list):
                items.extend(port_items(repository, port_list[source.output], source.output,
                                        loaded))
        ports.append(items)
    return ports


def _sent_items(data: dict[str, Any], source: Source) -> bool:
    """Whether ``source`` sent any items (n8n's source of an input is the node that did)."""
    ports = (data.get(source.from_) or {}).get("ports") or []
    return source.output < len(ports) and bool(ports[source.output].get("count"))


def port_items(repository: RunRepository, port: dict[str, Any], output: int,
               loaded: dict[str, list[list[Item]]]) -> list[Item]:
    """The items of one output port object (``output``: its index among the producer's
    ports): inline, or read from its S3 reference (``loaded`` caches what was read)."""
    if "ref" not in port:
        return list(port.get("items") or [])
    if port["ref"] not in loaded:
        loaded[port["ref"]] = repository.load_payload(port["ref"])
    return loaded[port["ref"]][output]


def resolved_trigger(repository: RunRepository, trigger: Any) -> Any:
    """The execution input with its items read back when the start staged them in S3
    (``functions.services.staging``): they travel as a port object, resolved as any."""
    items = trigger.get("items") if isinstance(trigger, dict) else None
    if isinstance(items, dict) and "ref" in items:
        return trigger | {"items": port_items(repository, items, 0, {})}
    return trigger


class NodeRunner:
    """Runs nodes against one repository; ``now``/``clock`` are injectable for tests."""

    def __init__(
        self,
        repository: RunRepository,
        *,
        http: Any = None,
        clock: Callable[[], float] = time.monotonic,
        waits: Any = None,
    ) -> None:
        self.repository = repository
        self.http = http
        self.clock = clock
        self.waits = waits  # functions.services.waits.WaitService: pausing wait nodes
        self.cache = NodeResultCache()
        self.guards = NodeGuards()

    def run(self, event: dict[str, Any], *,
            time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """Run the node of ``event``. ``time_left()``: seconds until the node must have
        answered (the invocation's end, less a margin; zero once no one waits for it):
        executors that start work they can stop (a code node's process) stop it then.
        An event with ``fused`` runs a chain of nodes (``functions.fused``)."""
        if event.get("fused"):
            first = {key: value for key, value in event.items() if key != "fused"}
            return run_chain(self, first, event["fused"], time_left=time_left)
        invocation = parse_event(Invocation, event, "node-runner")
        node = invocation.node
        is_trigger = NODE_TYPES.get(node.type) is not None and NODE_TYPES[node.type].trigger
        inputs = self._input_items(invocation)
        empty: Ports = [[] for _ in node.outputs]
        if invocation.taskToken is not None:
            return self._pause(invocation, inputs, empty)
        if invocation.waitExpired:
            assert self.waits is not None, "no wait service configured"
            self.waits.expire(execution_id=invocation.execution.id,
                              workflow_id=invocation.workflow, node=node.name,
                              mode=str(invocation.wait.get("mode") or "webhook"),
                              run_index=invocation.runIndex)
            return {}

        if invocation.skipped:
            return _ports(empty)
        if invocation.pinned:
            outputs = [self._pinned_items(invocation)] + empty[1:]
            return self._finish(invocation, "pinned", inputs, outputs, utc_now(), self.clock())
        if not is_trigger and not any(inputs):
            return _ports(empty)  # n8n: a node without input items does not run
        if node.disabled:
            outputs = [[item for port in inputs for item in port]] + empty[1:]
            self._record(invocation, "disabled", inputs, outputs, utc_now(), self.clock())
            return _ports(outputs)

        cache_key = self.cache.key(invocation, inputs) if node.cache else None
        if cache_key is not None and not invocation.reuseFrom:
            cached = self.cache.lookup(cache_key)
            if cached is not None:  # the same node version saw the same input: skip it
                return self._finish(invocation, "cached", inputs, cached, utc_now(),
                                    self.clock())
        started_at, started = utc_now(), self.clock()
        self.repository.append_progress(invocation.execution.id, "nodeStarted",
                                        node=node.name, run_index=invocation.runIndex,
                                        at=started_at)
        assigned: dict[str, Any] = {}  # setVariable: the new workflow variables
        logs: list[str] = []  # what the node's code printed: recorded with the run
        kept: dict[str, Any] = {}  # the extras the run keeps (KEPT_EXTRAS), also on failure
        reused = self._reused_outputs(invocation)
        try:
            if reused is not None:
                outputs = reused
            else:  # an open breaker or a rate limit may refuse the run here
                with self.guards.around(invocation.workflow, node, self.http,
                                        time_left) as http:
                    outputs = self._execute(invocation, inputs, assigned, time_left, logs,
                                            http, kept)
        except NodeError as exc:
            self._record(invocation, "error", inputs, None, started_at, started, exc,
                         logs=logs, kept=kept)
            raise
        # An executor bug must still leave a record and a typed error, whatever it raised:
        # a BaseException (SystemExit, KeyboardInterrupt, GeneratorExit) escaping here would
        # end the invocation's thread and leave the execution without an answer.
        except BaseException as exc:  # noqa: BLE001
            error = NodeError(f"{type(exc).__name__}: {exc}")
            self._record(invocation, "error", inputs, None, started_at, started, error,
                         logs=logs, kept=kept)
            raise error from exc
        if node.onError == "continueErrorOutput" and reused is None:
            outputs = outputs + [[]]
        result = self._finish(invocation, "success" if reused is None else "reused", inputs,
                              outputs, started_at, started, logs=logs, kept=kept)
        if cache_key is not None and reused is None and node.cache is not None:
            self.cache.store_outputs(cache_key, invocation, outputs, node.cache.ttlSeconds)
        return result | assigned

    def _finish(self, invocation: Invocation, status: str, inputs: Ports, outputs: Ports,
                started_at: str, started: float,
                logs: list[str] | None = None,
                kept: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record a run that produced ``outputs`` and return them: inline, or as an S3
        reference when large and every reader resolves references."""
        node = invocation.node
        size = len(json.dumps(outputs, separators=(",", ":")))
        offload = invocation.outputRefs and size > self.repository.config.inline_state_limit
        if not invocation.outputRefs and size > MAX_INLINE_OUTPUT:
            error = PayloadTooLarge(
                f"node {node.name!r} produced {size:,} bytes of items; a Step Functions state "
                f"carries at most 256 KiB, and this output cannot travel as an S3 reference "
                f"because a following state computes with the items inline (a native "
                f"pure-data node, a Wait or an inline loop). Put a runner node such as code "
                f"or aggregate after {node.name!r}, give a loop after it mode: distributed "
                f"(it then reads its items from S3), or send fewer items."
            )
            self._record(invocation, "error", inputs, outputs, started_at, started, error,
                         offload=True, logs=logs, kept=kept)
            raise error
        ref = self._record(invocation, status, inputs, outputs, started_at, started,
                           offload=offload, logs=logs, kept=kept)
        return _ports(outputs, ref if offload else None)

    def _pinned_items(self, invocation: Invocation) -> list[Item]:
        """The pinned items, of the pin version the execution started with (recorded by
        ``ExecutionService.start``): editing a pin never changes a running execution."""
        execution = self.repository.get_execution(invocation.execution.id)
        version = execution.pin_versions.get(invocation.node.name) if execution else None
        return self.repository.get_pin(invocation.workflow, invocation.node.name,
                                       version) or []

    def _pause(self, invocation: Invocation, inputs: Ports, empty: Ports) -> dict[str, Any]:
        """A wait that pauses (``.waitForTaskToken``): record it and return; the API sends
        the token back. A wait that would not run, or whose output is known (pinned,
        disabled, replayed by a retry), completes its task at once instead."""
        node, token = invocation.node, invocation.taskToken
        assert token is not None and self.waits is not None, "no wait service configured"
        outputs: Ports | None = None
        status = "success"
        if invocation.skipped or (not invocation.pinned and not any(inputs)):
            outputs, status = empty, ""
        elif invocation.pinned:
            outputs, status = [self._pinned_items(invocation)] + empty[1:], "pinned"
        elif node.disabled:
            outputs = [[item for port in inputs for item in port]] + empty[1:]
            status = "disabled"
        else:
            outputs = self._reused_outputs(invocation)
            status = "reused"
        if outputs is None:
            self.waits.pause(
                execution_id=invocation.execution.id, workflow_id=invocation.workflow,
                node=node.name, mode=str(invocation.wait.get("mode") or "webhook"),
                token=token, inputs=inputs, outputs=len(node.outputs),
                run_index=invocation.runIndex,
                timeout_seconds=invocation.wait.get("timeoutSeconds"))
            return {"paused": True}
        if status:
            self._record(invocation, status, inputs, outputs, utc_now(), self.clock())
        self.waits.complete(token, outputs)
        return {"paused": False}

    def _reused_outputs(self, invocation: Invocation) -> Ports | None:
        """A retry replays the outputs this node recorded in the failed execution instead
        of running it again (its side effects happened already)."""
        if not invocation.reuseFrom:
            return None
        return self.repository.node_output(invocation.reuseFrom, invocation.node.name,
                                           run_index=invocation.runIndex)

    def _input_items(self, invocation: Invocation) -> Ports:
        return input_items(self.repository, invocation.inputs, invocation.data)

    def _execute(self, invocation: Invocation, inputs: Ports,
                 assigned: dict[str, Any] | None = None,
                 time_left: Callable[[], float] | None = None,
                 logs: list[str] | None = None, http: Any = None,
                 kept: dict[str, Any] | None = None) -> Ports:
        """Run the node's executor (``http``: its session, default the runner's); ``logs``
        receives the console output it handed over
        (``ctx.extras["logs"]``), also when it failed after printing; ``kept`` the extras
        the run keeps (``KEPT_EXTRAS``), likewise."""
        node = invocation.node
        execution_id = invocation.execution.id

        def node_output(name: str) -> list[Item]:
            outputs = self.repository.node_output(execution_id, name)
            return outputs[0] if outputs else []

        scope = Scope(
            items=[item for port in inputs for item in port],
            node_output=node_output,
            execution={"id": execution_id, "startTime": invocation.execution.startTime},
            workflow={"name": invocation.workflow},
            now=utc_now(),
            variables=invocation.vars,
        )
        ctx = NodeContext(
            node_name=node.name,
            node_type=node.type,
            raw_params=node.parameters,
            scope=scope,
            http=http if http is not None else self.http,
            extras={"trigger": resolved_trigger(self.repository, invocation.trigger),
                    "attempt": invocation.attempt},
            time_left=time_left,
        )
        if node.credentials is not None:
            ctx.extras[NODE_CREDENTIALS_KEY] = node.credentials
        if node.n8n is not None:
            ctx.extras["n8n"] = {
                "node": node.model_dump(),
                "sources": [[(source.from_, source.output) for source in sources
                             if _sent_items(invocation.data, source)]
                            for sources in invocation.inputs],
                "runIndex": invocation.runIndex,
                "workflow": invocation.workflow,
                "executionId": execution_id,
                "executionMode": lambda: getattr(
                    self.repository.get_execution(execution_id), "mode", None),
                "runs": lambda: self.repository.node_runs(execution_id),
            }
        # The choke point of redaction (functions.credentials.redact): what the node made
        # (outputs, error, logs) is scrubbed of every resolved secret before it is recorded,
        # cached, returned or raised.
        try:
            outputs = REDACTOR.scrub(get_executor(node.type).run(inputs, ctx))
        except BaseException as exc:
            clean = REDACTOR.scrub_error(exc)
            if clean is exc:
                raise
            raise clean from None
        finally:
            if logs is not None:
                logs.extend(REDACTOR.scrub(str(line)) for line in ctx.extras.get("logs") or [])
            if kept is not None:
                kept.update({key: ctx.extras[key] for key in KEPT_EXTRAS if key in ctx.extras})
        if assigned is not None and "setVars" in ctx.extras:
            assigned["vars"] = ctx.extras["setVars"]
        expected = len(node.outputs) - (1 if node.onError == "continueErrorOutput" else 0)
        if len(outputs) != expected:
            raise NodeError(
                f"executor for {node.type!r} returned {len(outputs)} outputs, expected {expected}"
            )
        return outputs

    def _record(
        self,
        invocation: Invocation,
        status: str,
        inputs: Ports,
        outputs: Ports | None,
        started_at: str,
        started: float,
        error: NodeError | None = None,
        *,
        offload: bool = False,
        logs: list[str] | None = None,
        kept: dict[str, Any] | None = None,
    ) -> str | None:
        run = NodeRun(
            execution_id=invocation.execution.id,
            node=invocation.node.name,
            node_type=invocation.node.type,
            status=status,
            started_at=started_at,
            finished_at=utc_now(),
            duration_ms=int((self.clock() - started) * 1000),
            attempts=invocation.attempt,
            run_index=invocation.runIndex,
            input_counts=[len(port) for port in inputs],
            output_counts=[len(port) for port in outputs or []],
            output=outputs,
            error={"type": error.error_type, "message": str(error)} if error else None,
            logs=logs or None,
            **{field: (kept or {}).get(key) for key, field in KEPT_EXTRAS.items()},
        )
        ref = self.repository.record_node_run(run, offload=offload)
        observe_node_run(run, stored_in_s3=ref is not None)
        return ref


def observe_node_run(run: NodeRun, *, stored_in_s3: bool = False) -> None:
    """What a recorded run tells an operator: its metrics (``functions.metrics``), the
    status and item counts on its trace, and one log line (read back, node by node, by
    ``GET /executions/{id}/logs``). Native nodes' runs, recorded from the history, are
    observed by ``functions.services.execution_metrics``."""
    count_node_run(run)
    if stored_in_s3:
        metrics.record("PayloadOffloads", nodeType=run.node_type)
    annotate_run(run.status, run.input_counts, run.output_counts)
    fields = {"status": run.status, "durationMs": run.duration_ms,
              "inputCounts": run.input_counts, "outputCounts": run.output_counts}
    if run.error:
        logger.warning("node run failed", extra=fields | {"error": run.error})
    else:
        logger.info("node run recorded", extra=fields)
