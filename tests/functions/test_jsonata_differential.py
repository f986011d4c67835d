"""Two JSONata engines, one answer: jsonata-js (what native states run on AWS) against
jsonata-python (the runner, the compiler, native states on the local runtime).

Step Functions documents its JSONata as the 2.0.6 specification (without ``$eval``), so the
reference is the ``jsonata`` npm package pinned at 2.0.6 in package.json, run by node over
the whole corpus (``jsonata_corpus.json``) in one process. jsonata-python evaluates each
expression as the runner does (``compiler.expressions.parse``, which carries
``compiler.jsonata_compat``'s alignments). Every case must agree, except those marked
``diverges``: a divergence named after a function must keep that function off native states
(``compiler.lowering.native.JS_DIVERGENT_FUNCTIONS``); the others depend on data, not on
the expression, and are documented in docs/jsonata.md. A new divergence fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.expressions import parse
from compiler.lowering import native

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CORPUS = json.loads((HERE / "jsonata_corpus.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
AWS_JSONATA_VERSION = "2.0.6"  # Step Functions developer guide, "Transforming data with JSONata"
DATA_DIVERGENCES = {"big integers", "overflow"}
CALL = re.compile(r"\$([A-Za-z_]\w*)\s*\(")


def case_input(case: dict[str, Any]) -> Any:
    return CORPUS["inputs"][case.get("input", "order")]


@cache
def javascript() -> tuple[str, list[dict[str, Any]]]:
    """(jsonata version, one result per case) from a single node process."""
    cases = [{"expr": case["expr"], "input": case_input(case)} for case in CASES]
    done = subprocess.run(["node", str(HERE / "jsonata_js.js")], input=json.dumps(cases),
                          capture_output=True, text=True, cwd=ROOT, check=True, timeout=120)
    out = json.loads(done.stdout)
    return out["version"], out["results"]


def python(expr: str, data: Any) -> dict[str, Any]:
    try:
        value = parse(expr).evaluate(data, {"json": data})
    except Exception as exc:  # noqa: BLE001 - both engines' errors count as "an error"
        return {"error": getattr(exc, "error", None) or type(exc).__name__}
    return {} if value is None else {"value": json.loads(json.dumps(value))}


def agree(js: dict[str, Any], py: dict[str, Any]) -> bool:
    if "error" in js or "error" in py:
        return "error" in js and "error" in py  # messages differ between the engines
    return js == py


def outcomes() -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    _, results = javascript()
    return [(case, js, python(case["expr"], case_input(case)))
            for case, js in zip(CASES, results, strict=True)]


def test_the_reference_is_the_jsonata_step_functions_documents() -> None:
    version, _ = javascript()
    assert version == AWS_JSONATA_VERSION
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["jsonata"]
    assert pinned == AWS_JSONATA_VERSION


def test_the_corpus_covers_every_function_a_native_state_may_call() -> None:
    assert len(CASES) >= 80
    called = {name for case in CASES for name in CALL.findall(case["expr"])}
    assert called >= native._PORTABLE_FUNCTIONS | native.JS_DIVERGENT_FUNCTIONS


def test_both_engines_agree_on_every_case_not_marked() -> None:
    new = [f"{case['expr']!r}: js {js} python {py}" for case, js, py in outcomes()
           if "diverges" not in case and not agree(js, py)]
    assert not new, "new JSONata divergences:\n" + "\n".join(new)


def test_every_known_divergence_still_diverges() -> None:
    """A library upgrade that fixes one should drop its marker (and, for a function, let
    the function go native again)."""
    stale = [case["expr"] for case, js, py in outcomes()
             if "diverges" in case and agree(js, py)]
    assert not stale


def test_functions_that_diverge_stay_off_native_states() -> None:
    marked = {case["diverges"] for case in CASES if "diverges" in case}
    assert marked - DATA_DIVERGENCES == native.JS_DIVERGENT_FUNCTIONS
    for case in CASES:
        kind = case.get("diverges")
        if kind in native.JS_DIVERGENT_FUNCTIONS:
            assert not native.portable(case["expr"]), case["expr"]


@pytest.mark.parametrize("function", sorted(native.JS_DIVERGENT_FUNCTIONS))
def test_a_set_node_calling_a_divergent_function_runs_on_the_runner(function: str) -> None:
    expression = "{% $" + function + "($json.x" + (", '#0.0'" if function == "formatNumber"
                                                     else "") + ") %}"
    workflow = {"name": "diverging", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Shape", "type": "set", "parameters": {"values": {"y": expression}}}],
        "connections": [{"from": "Start", "to": "Shape"}]}
    compiled = compile_workflow(workflow)
    shape = compiled.definition["States"]["Shape"]
    assert shape["Type"] == "Task", shape
    assert f"${function}" in native.fallback_reason(compiled.graph, compiled.graph.index["Shape"])


def test_the_local_runtime_evaluates_native_states_with_the_aligned_engine() -> None:
    from local import moto_patches

    evaluate = moto_patches._evaluate
    assert evaluate("$string(1e20) & ' ' & $string(0.1 + 0.2)", {}) == \
        "100000000000000000000 0.3"
    assert evaluate("$sort([{'k': 1, 'n': 'a'}, {'k': 0, 'n': 'b'}, {'k': 1, 'n': 'c'}], "
                    "function($l, $r) { $l.k > $r.k }).n", {}) == ["b", "a", "c"]


def test_integers_beyond_any_double_still_become_text() -> None:
    assert parse("$string(x)").evaluate({"x": 10**400}) == str(10**400)
