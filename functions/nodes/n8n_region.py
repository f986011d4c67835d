"""The node runner's side of an n8n loop region (``compiler.n8n.cycles``): one Task runs
every node of a SplitInBatches v1/v2 cycle, in n8n's order (``functions.n8n.region``).

Each member runs as it would on its own Task (``functions.nodes.n8n_run.run_node``: its
typeVersion, flags, expressions, Code), with what n8n's engine would give it:

* ``$runIndex``: its runs so far in the execution (earlier invocations of the region
  included), and ``$node["Loop"].context``: each SplitInBatches member's ``BatchState``,
  kept in memory for the whole loop;
* the run data of the execution (read once) plus the region's own runs so far, so
  ``$("Body").all(0, i)`` reads run ``i`` inside and after the loop;
* the document's connections (the region's Task only sees the contracted graph).

Every member run is recorded as the runner records a node's (status, run index, item
counts, output or error) with its progress event, as it finishes: a member that fails
leaves the runs before it recorded, and its error fails the region's Task (Retry/Catch and
error workflows apply to the region as one node). The region's own run (its exits'
items) is recorded by the runner under the region's name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from functions.errors import NodeError
from functions.n8n.batches import BatchState
from functions.n8n.items import Item
from functions.n8n.region import Region, Step, run_region
from functions.nodes.base import NodeContext, Ports
from functions.store.repository import NodeRun, utc_now

#: (execution id, event, node, run index): the runner's progress events of a member run
Progress = Callable[[str, str, str, int], None]
Record = Callable[[NodeRun], None]


class RegionStore:
    """Where member runs go: the execution's run records and progress events."""

    def __init__(self, record: Record, progress: Progress) -> None:
        self.record = record
        self.progress = progress

    @classmethod
    def from_env(cls) -> RegionStore:
        """The run store of the deployment (as the node-runner handler builds it). The
        runner does not hand executors its repository yet: see the module docstring."""
        import boto3

        from functions.config import Config
        from functions.store.repository import RunRepository

        config = Config.from_env()
        s3 = boto3.client("s3", region_name=config.region) if config.payload_bucket else None
        repository = RunRepository(config, s3_client=s3)

        def progress(execution: str, event: str, node: str, run_index: int) -> None:
            repository.append_progress(execution, event, node=node, run_index=run_index)

        def record(run: NodeRun) -> None:
            repository.record_node_run(run)

        return cls(record, progress)


def run_region_node(inputs: Ports, ctx: NodeContext, store: RegionStore | None = None,
                    clock: Callable[[], float] = time.monotonic) -> Ports:
    """Run the region of ``ctx`` (its parameters: ``compiler.n8n.cycles``) on ``inputs``;
    its outputs are the items on its exits."""
    extras: Mapping[str, Any] = ctx.extras.get("n8n") or {}
    parameters = ctx.raw_params
    region = Region.from_dict(parameters)
    members = {node["name"]: node for node in parameters.get("nodes") or []}
    execution_id = str(extras.get("executionId") or "")
    store = store or RegionStore.from_env()
    earlier = [run for run in (extras.get("runs") or (lambda: []))()]
    done: list[NodeRun] = []
    base: dict[str, int] = {}
    for run in earlier:
        if run.node in members:
            base[run.node] = max(base.get(run.node, 0), run.run_index + 1)
    node_spec = extras.get("node") or {}
    context = json.loads(node_spec.get("n8n") or "{}")
    context["connections"] = parameters.get("connections") or {}
    context_json = json.dumps(context, separators=(",", ":"), ensure_ascii=False)
    entry_sources = extras.get("sources") or []
    states: dict[str, BatchState] = {}

    def run_member(step: Step) -> list[list[Item]] | None:
        member = members[step.node]
        if step.source is not None:
            sources = [[step.source]]
        else:
            port = next(i for i, (node, _) in enumerate(region.entries) if node == step.node)
            sources = [list(entry_sources[port]) if port < len(entry_sources) else []]
        member_ctx = NodeContext(
            node_name=step.node, node_type=member["type"], raw_params=member["parameters"],
            scope=ctx.scope, http=ctx.http, time_left=ctx.time_left,
            extras={**ctx.extras, "n8n": {
                **extras,
                "node": _node_spec(member, context_json),
                "sources": sources,
                "runIndex": step.run_index,
                "runs": lambda: [*earlier, *done],
                "contexts": {name: state.context() for name, state in states.items()},
                "batchState": step.state,
            }})
        return _run_and_record(step, member, member_ctx, execution_id, store, clock, done)

    try:
        return run_region(region, inputs, run_member, base_runs=base, states=states,
                          time_left=ctx.time_left).exits
    finally:  # nodes after the loop read the contexts as the loop left them
        store.record(_context_run(execution_id, node_spec.get("name") or "", states))


#: Run records holding the SplitInBatches contexts a region left (n8n keeps node context
#: for the whole execution: ``$node["Loop"].context`` after the loop reads them). The
#: ``#`` prefix is reserved for helpers, so no node of a workflow has such a name.
CONTEXT_PREFIX = "#context:"


def _context_run(execution_id: str, region: str, states: Mapping[str, BatchState]) -> NodeRun:
    now = utc_now()
    contexts = {name: state.context() for name, state in states.items()}
    return NodeRun(execution_id=execution_id, node=CONTEXT_PREFIX + region,
                   node_type="sfnflow.n8nLoop", status="context", started_at=now,
                   finished_at=now, duration_ms=0, output=[[{"json": contexts}]])


def stored_contexts(runs: Iterable[Any]) -> dict[str, Any]:
    """The node contexts regions of this execution left (``$node[...].context`` of a node
    outside the loop), from the execution's run records."""
    contexts: dict[str, Any] = {}
    for run in sorted((r for r in runs if str(r.node).startswith(CONTEXT_PREFIX)
                       and r.output), key=lambda r: str(r.finished_at)):
        for port in run.output[:1]:
            for item in port[:1]:
                contexts.update(item.get("json") or {})
    return contexts


def _node_spec(member: Mapping[str, Any], context_json: str) -> dict[str, Any]:
    """What ``functions.nodes.n8n_run`` reads of a node (the runner's ``NodeSpec``)."""
    return {"name": member["name"], "type": member["type"],
            "parameters": member.get("parameters") or {},
            "onError": member.get("onError") or "stopWorkflow",
            "disabled": bool(member.get("disabled")),
            "outputs": list(member.get("outputs") or ["main"]),
            "typeVersion": member.get("typeVersion") or 1,
            "alwaysOutputData": bool(member.get("alwaysOutputData")),
            "executeOnce": bool(member.get("executeOnce")), "n8n": context_json}


def _run_and_record(step: Step, member: Mapping[str, Any], ctx: NodeContext,
                    execution_id: str, store: RegionStore, clock: Callable[[], float],
                    done: list[NodeRun]) -> list[list[Item]] | None:
    from functions.nodes.n8n_run import run_node  # imports this module's caller

    outputs_count = len(member.get("outputs") or ["main"])
    started_at, started = utc_now(), clock()
    store.progress(execution_id, "nodeStarted", step.node, step.run_index)

    def record(status: str, outputs: list[list[Item]] | None,
               error: NodeError | None = None) -> NodeRun:
        run = NodeRun(
            execution_id=execution_id, node=step.node, node_type=member["type"],
            status=status, started_at=started_at, finished_at=utc_now(),
            duration_ms=int((clock() - started) * 1000), run_index=step.run_index,
            input_counts=[len(port) for port in step.inputs],
            output_counts=[len(port) for port in outputs or []], output=outputs,
            error={"type": error.error_type, "message": str(error)} if error else None,
            logs=[str(line) for line in ctx.extras.get("logs") or []] or None)
        store.record(run)
        return run

    try:
        if member.get("disabled"):  # n8n passes a disabled node's input 0 through
            outputs = [list(step.inputs[0])] + [[] for _ in range(outputs_count - 1)]
        else:
            outputs = run_node(member["type"], step.inputs, ctx)
    except NodeError as exc:
        record("error", None, exc)
        raise
    except BaseException as exc:  # noqa: BLE001 - recorded and typed, as the runner does
        error = NodeError(f"{type(exc).__name__}: {exc}")
        record("error", None, error)
        raise error from exc
    if step.state is not None and float(member.get("typeVersion") or 1) < 2 \
            and not any(outputs):
        return None  # n8n's SplitInBatches v1 returns null when nothing is left: no run
    done.append(record("success", outputs))
    return outputs


__all__ = ["CONTEXT_PREFIX", "RegionStore", "run_region_node", "stored_contexts"]
