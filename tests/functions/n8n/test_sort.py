"""Sort's caller-assisted modes (functions.n8n.sort): a seeded shuffle, a comparator."""

from __future__ import annotations

import random

import pytest

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeParameterError
from functions.n8n.sort import run


def _call(parameters: dict) -> NodeCall:
    items = [{"json": {"n": n}, "pairedItem": {"item": n}} for n in range(6)]
    return NodeCall(node="Sort", type_version=1, parameters=parameters, inputs=[items])


def test_random_is_reproducible_with_a_seed_and_keeps_lineage() -> None:
    first = run(_call({"type": "random"}), rng=random.Random(7))[0]
    second = run(_call({"type": "random"}), rng=random.Random(7))[0]
    assert first == second
    assert sorted(it["json"]["n"] for it in first) == list(range(6))
    assert all(it["pairedItem"] == {"item": it["json"]["n"]} for it in first)


def test_code_sort_uses_the_callers_comparator() -> None:
    out = run(_call({"type": "code", "code": "return b.json.n - a.json.n"}),
              comparator=lambda a, b: b["json"]["n"] - a["json"]["n"])[0]
    assert [it["json"]["n"] for it in out] == [5, 4, 3, 2, 1, 0]


def test_code_sort_without_a_comparator_names_the_parameter() -> None:
    with pytest.raises(NodeParameterError) as caught:
        run(_call({"type": "code", "code": "return 0"}))
    assert caught.value.parameter == "code"
