"""Run one workflow the way n8n's node-test harness does, on the embedded cloud, and judge it.

n8n's rules (``corpus/README.md``, "How n8n decides pass/fail"): the workflow's ``pinData``
is removed from the run and becomes the expected output — for every pinned node K, exactly
one run whose output 0, with ``pairedItem`` and ``binary`` deleted, ``toEqual``s the pinned
items in order — and the execution must succeed. The run starts at the manual trigger with
one empty item.

Here the document goes through the public path a user's file takes (``compiler.loader``,
then ``compile_workflow``), is deployed and started on a ``LocalCloud`` like ``sfnflow run``,
and the pinned nodes' runs are read from the run data (``cloud.repository``). n8n's JSON
is handed over as it is (the compiler converts it by shape, as for every command). Works for
sfnflow's own documents too (their ``pinData`` holds plain objects).

Every outcome is a ``Verdict``, never an exception: a compile error lists its problems, a
failed execution gives its error, a node that did not run is n8n's own message
(``Data for node "K" is missing!``), a mismatch names the first difference.
"""

from __future__ import annotations

import json
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import Problem, SfnflowError, WorkflowInvalid, compile_workflow, load_text
from compiler.explain import node_states
from compiler.n8n import is_n8n
from compiler.nodetypes import NODE_TYPES
from compiler.pipeline import CompiledWorkflow
from functions.store.repository import NodeRun
from local.cloud import LocalCloud
from tests.n8n.compare import first_difference, strip_paired

Item = dict[str, Any]

PASS = "pass"
COMPILE_ERROR = "compile error"
EXECUTION_FAILED = "execution failed"
MISSING = "missing node data"
RUNS = "wrong number of runs"
MISMATCH = "mismatch"
HARNESS_ERROR = "harness error"

#: Real seconds an execution may take before it counts as hung (a loop that never ends).
EXECUTION_TIMEOUT_SECONDS = 60.0
#: Problems and differences shown in a reason (the rest are counted).
SHOWN = 3
FAILURE_CHARS = 300
_N8N_ITEM_KEYS = frozenset({"json", "pairedItem", "binary"})


@dataclass(frozen=True)
class Lowering:
    """How the compiled workflow runs its (non-trigger) nodes: native states or the runner."""

    native: int
    runner: int

    @property
    def nodes(self) -> int:
        return self.native + self.runner


@dataclass(frozen=True)
class Verdict:
    """n8n's verdict on one workflow: ``outcome`` is ``PASS`` or why it failed."""

    source: str
    outcome: str
    reason: str = ""
    lowering: Lowering | None = None  # None when it did not compile
    notes: list[str] = field(default_factory=list)  # the compiler's notes (importer losses)

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    def describe(self) -> str:
        return "pass" if self.passed else f"{self.outcome}: {self.reason}"


# ------------------------------------------------------------------------ the document


@dataclass(frozen=True)
class Prepared:
    """The document to run (pinData removed) and what n8n expects of it."""

    document: dict[str, Any]
    expected: dict[str, list[Item]]  # node -> its pinned items, as n8n items ``{json}``
    n8n: bool  # n8n's node types: items may arrive wrapped as ``{json, pairedItem}``


def prepare(text: str, source: str) -> Prepared:
    """Parse through the public path (``compiler.loader``) and take the pins out.

    n8n's JSON stays n8n's JSON: ``compile_workflow`` converts it by shape as it does for
    every command, so the run exercises that conversion too. Its pins are n8n items already;
    an sfnflow document's are plain objects, wrapped here as n8n would hold them."""
    document = load_text(text, source)
    if not isinstance(document, dict):
        raise WorkflowInvalid([Problem(None, "", f"{source}: not a workflow object")])
    document = dict(document)
    pins = document.pop("pinData", None) or {}
    n8n = is_n8n(document)
    if n8n and not isinstance(document.get("connections"), list):
        document.pop("trigger", None)  # n8n's harness removes it too (step 3)
        expected = {name: [dict(item) for item in items] for name, items in pins.items()}
    else:
        expected = {name: [{"json": item} for item in items] for name, items in pins.items()}
    return Prepared(document, expected, n8n)


def lowering_of(compiled: CompiledWorkflow) -> Lowering:
    """Count nodes by the state that runs them, as ``sfnflow plan`` shows it
    (``compiler.explain.node_states``: "Lambda" is the node runner, anything else native)."""
    states = node_states(compiled.definition)
    native = runner = 0
    for name, spec in compiled.manifest["nodes"].items():
        node_type = NODE_TYPES.get(spec["type"])
        if (node_type is not None and node_type.trigger) or name not in states:
            continue
        if states[name] == "Lambda":
            runner += 1
        else:
            native += 1
    return Lowering(native, runner)


# ------------------------------------------------------------------------------ the run


def run_file(cloud: LocalCloud, path: Path) -> Verdict:
    return run_text(cloud, path.read_text(encoding="utf-8"), str(path))


def run_text(cloud: LocalCloud, text: str, source: str) -> Verdict:
    """n8n's verdict on one workflow document; never raises."""
    try:
        return _run(cloud, text, source)
    except Exception as exc:  # the verdict reports it: one bad workflow must not stop a table
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return Verdict(source, HARNESS_ERROR, f"{type(exc).__name__}: {exc} "
                       f"({Path(frame.filename).name}:{frame.lineno})")


def _run(cloud: LocalCloud, text: str, source: str) -> Verdict:
    try:
        prepared = prepare(text, source)
        compiled = compile_workflow(prepared.document)
    except WorkflowInvalid as exc:
        return Verdict(source, COMPILE_ERROR, _problems(exc))
    except SfnflowError as exc:
        return Verdict(source, COMPILE_ERROR, str(exc))
    lowering = lowering_of(compiled)
    notes = list(compiled.manifest.get("notes") or [])
    execution_id = cloud.start(compiled, None, mode="manual")
    finished = cloud.wait(execution_id, timeout_seconds=EXECUTION_TIMEOUT_SECONDS)
    if finished.status != "SUCCEEDED":
        return Verdict(source, EXECUTION_FAILED,
                       failure(finished.status, finished.error, finished.cause),
                       lowering, notes)
    runs: dict[str, list[NodeRun]] = defaultdict(list)
    for run in cloud.repository.node_runs(execution_id):
        runs[run.node].append(run)
    outcome, reason = judge(prepared, runs)
    return Verdict(source, outcome, reason, lowering, notes)


def failure(status: str, error: str | None, cause: str | None) -> str:
    """``FAILED Error: message``; a Lambda's cause is its JSON error report, of which the
    message is what a reader needs (the stack trace is in the run data)."""
    message = cause
    try:
        report = json.loads(cause or "")
    except ValueError:
        report = None
    if isinstance(report, dict) and "errorMessage" in report:
        message = str(report["errorMessage"])
    detail = ": ".join(part for part in (error, message) if part)
    return f"{status} {detail}".strip()[:FAILURE_CHARS]


def judge(prepared: Prepared, runs: dict[str, list[NodeRun]]) -> tuple[str, str]:
    """n8n's step 5 for every pinned node: ``(outcome, reason)``, the first failure's kind."""
    failures: list[tuple[str, str]] = []
    for name, expected in prepared.expected.items():
        node_runs = sorted(runs.get(name, []), key=lambda run: run.run_index)
        if not node_runs:
            failures.append((MISSING, f'Data for node "{name}" is missing!'))
            continue
        actual = [output_zero(run, prepared.n8n) for run in node_runs]
        if len(actual) != 1:
            failures.append((RUNS, f'"{name}" ran {len(actual)} times, n8n expects one run'))
            continue
        difference = first_difference(actual[0], expected)
        if difference is not None:
            failures.append((MISMATCH, f'"{name}" {difference}'))
    if not failures:
        return PASS, ""
    shown = "; ".join(reason for _, reason in failures[:SHOWN])
    more = f" (+{len(failures) - SHOWN} more)" if len(failures) > SHOWN else ""
    return failures[0][0], shown + more


def output_zero(run: NodeRun, n8n: bool) -> list[Item] | None:
    """A run's output 0 as n8n's harness compares it (``None`` when the run has no data)."""
    if run.output is None:
        return None
    port = run.output[0] if run.output else []
    return strip_paired([as_n8n_item(item, n8n) for item in port])


def as_n8n_item(item: Any, n8n: bool) -> Item:
    """sfnflow's items are plain JSON objects; n8n's are ``{json, pairedItem?, binary?}``.
    An n8n node's item may travel either way, so for n8n documents an item that is already
    wrapped stays as it is (a plain object that only holds a ``json`` key reads as wrapped
    too: n8n's own items cannot tell the two apart either)."""
    if n8n and isinstance(item, dict) and "json" in item and set(item) <= _N8N_ITEM_KEYS:
        return item
    return {"json": item}


def _problems(exc: WorkflowInvalid) -> str:
    """The problems grouped by field and message (the same refusal on every node reads
    once, with how many nodes have it): a short reason that stays stable as nodes change."""
    grouped: dict[tuple[str, str], list[str | None]] = defaultdict(list)
    for problem in exc.problems:
        grouped[(problem.field, problem.message)].append(problem.node)
    shown = [_problem_group(field_name, message, nodes)
             for (field_name, message), nodes in list(grouped.items())[:SHOWN]]
    more = f" (+{len(grouped) - SHOWN} more)" if len(grouped) > SHOWN else ""
    return "; ".join(shown) + more or str(exc)


def _problem_group(field_name: str, message: str, nodes: list[str | None]) -> str:
    named = [node for node in nodes if node is not None]
    where = ["workflow"] if len(named) < len(nodes) else []
    if len(named) == 1:
        where.append(f"node {named[0]!r}")
    elif named:
        where.append(f"{len(named)} nodes")
    field_text = f" {field_name!r}" if field_name else ""
    return f"{' and '.join(where)}{field_text}: {message}"
