"""n8n's own node-test workflows, run through functions.n8n and compared as n8n's harness does.

For every offline workflow of the corpus: run it with the helpers in ``support`` (testData
and literal Code nodes as sources, the fake evaluator for ``$json`` paths and
``$('Node').item.json`` lineage, loop-free v1 order) and
compare each pinned node's output 0 with its pinData (pairedItem removed, Jest's
``toEqual``). Pinned nodes the helpers cannot run (a real JavaScript Code node, an
expression beyond those, a loop) are reported: the test compares every pinned
node it could run, then skips naming the ones it could not.
"""

from __future__ import annotations

import json

import pytest

from tests.functions.n8n.support import Unsupported, run_workflow
from tests.n8n.compare import strip_paired, to_equal
from tests.n8n.corpus_index import CORPUS


def _entries() -> list[dict]:
    index = CORPUS / "index.json"
    if not index.exists():
        return []
    return [e for e in json.loads(index.read_text())["entries"] if e["offlineRunnable"]]


ENTRIES = _entries()


def _show(items: object) -> str:
    return json.dumps(items)[:300]


@pytest.mark.skipif(not ENTRIES, reason=f"n8n conformance corpus not found at {CORPUS}")
@pytest.mark.parametrize(
    "entry", ENTRIES, ids=[e["file"].removeprefix("workflows/") for e in ENTRIES]
)
def test_pinned_nodes_match_n8n(entry: dict) -> None:
    workflow = json.loads((CORPUS / entry["file"]).read_text())
    try:
        run = run_workflow(workflow)
    except Unsupported as exc:
        pytest.skip(f"workflow not runnable by the helpers: {exc}")
    mismatches, compared, not_run = [], 0, []
    for name, expected in workflow["pinData"].items():
        if name in run.unsupported:
            not_run.append(f"{name} ({run.unsupported[name]})")
            continue
        if name not in run.outputs:
            mismatches.append(f'Data for node "{name}" is missing!')
            continue
        actual = strip_paired(run.outputs[name][0])
        compared += 1
        if not to_equal(actual, expected):
            mismatches.append(f"{name}: got {_show(actual)} expected {_show(expected)}")
    assert not mismatches, "\n".join(mismatches)
    if not_run:
        pytest.skip(f"{compared} pinned nodes match; not run: {'; '.join(not_run)}")
