"""SplitInBatches v1-v3 as a state machine, checked run by run against n8n.

``peer_batches.json`` was recorded with n8n 1.123 (``record_peer_cases.py``): five items
go into a Loop (batchSize 2) whose loop port feeds a Body node that writes the Loop's node
context (``$node["Loop"].context[...]``) into each item and returns to the Loop. Here the
same loop is driven by hand: ``batches.run`` for the Loop, and for Body a copy of each
item plus ``state.context()`` as strings (Body's fields are of type string).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.n8n.batches import BatchState, run
from functions.n8n.call import NodeCall
from functions.n8n.jsvalues import js_string

RECORDED = json.loads(Path(__file__).with_name("peer_batches.json").read_text())
KEYS = ("noItemsLeft", "done", "maxRunIndex", "currentRunIndex")


def _call(version: float, rows: list[dict], **parameters: object) -> NodeCall:
    items = [{"json": row, "pairedItem": {"item": i}} for i, row in enumerate(rows)]
    params = {"batchSize": 2, "options": {}, **parameters}
    return NodeCall(node="Loop", type_version=version, parameters=params, inputs=[items])


def _body(rows: list[dict], state: BatchState) -> list[dict]:
    context = state.context()
    return [
        {**row, **{f"ctx_{k}": js_string(context[k]) if k in context else None for k in KEYS}}
        for row in rows
    ]


@pytest.mark.parametrize("version", sorted(RECORDED["versions"]), ids=lambda v: f"v{v}")
def test_loop_runs_match_n8n(version: str) -> None:
    recorded = RECORDED["versions"][version]
    loop_port = 0 if float(version) < 3 else 1
    state = BatchState()
    rows = RECORDED["input"]
    loop_runs, body_runs = [], []
    for _ in recorded["loopRuns"]:
        outputs = run(_call(float(version), rows), state)
        loop_runs.append([[it["json"] for it in port] for port in outputs])
        batch = [it["json"] for it in outputs[loop_port]]
        if batch:
            rows = _body(batch, state)
            body_runs.append([rows])
    assert loop_runs == recorded["loopRuns"]
    assert body_runs == recorded["bodyRuns"]


def test_v3_done_output_carries_every_processed_item_once() -> None:
    state = BatchState()
    outputs = run(_call(3, [{"n": 1}]), state)
    assert outputs == [[], [{"json": {"n": 1}, "pairedItem": {"item": 0}}]]
    outputs = run(_call(3, [{"n": 1, "seen": True}]), state)
    assert [it["json"] for it in outputs[0]] == [{"n": 1, "seen": True}]
    assert outputs[1] == []
    assert state.context() == {
        "noItemsLeft": True,
        "done": True,
        "maxRunIndex": 1,
        "currentRunIndex": 1,
    }


def test_reset_starts_over_with_the_new_input() -> None:
    state = BatchState()
    run(_call(2, [{"n": 1}, {"n": 2}, {"n": 3}]), state)
    outputs = run(_call(2, [{"n": 9}], options={"reset": True}), state)
    assert [it["json"] for it in outputs[0]] == [{"n": 9}]
    assert state.context()["currentRunIndex"] == 0


def test_state_survives_a_round_trip_through_json() -> None:
    state = BatchState()
    run(_call(3, [{"n": 1}, {"n": 2}, {"n": 3}]), state)
    restored = BatchState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert [it["json"] for it in run(_call(3, []), restored)[1]] == [{"n": 3}]


def test_batch_size_below_one_is_a_parameter_error() -> None:
    from functions.n8n.errors import NodeParameterError

    with pytest.raises(NodeParameterError, match="batchSize"):
        run(_call(3, [{"n": 1}], batchSize=0), BatchState())


@pytest.mark.parametrize("version", [1, 2, 2.1])
def test_v2_1_resets_only_once_its_loop_has_ended(version: float) -> None:
    """n8n's recorded ``workflow_v2.1``: with ``reset`` set from its own ``noItemsLeft``, the
    last batch coming back is collected into done (v2.1), not a new start (v1, v2)."""
    state = BatchState()
    run(_call(version, [{"n": 1}, {"n": 2}], batchSize=1), state)
    run(_call(version, [{"n": 1}], batchSize=1), state)  # the last batch goes out
    back = run(_call(version, [{"n": 2}], batchSize=1, options={"reset": True}), state)
    ended = state.done
    restarted = run(_call(version, [{"n": 7}], batchSize=1, options={"reset": True}), state)
    if version == 2.1:
        assert [it["json"] for it in back[1]] == [{"n": 1}, {"n": 2}] and ended
        assert [it["json"] for it in restarted[0]] == [{"n": 7}]
    else:
        assert [it["json"] for it in back[0]] == [{"n": 2}]  # started over with it
