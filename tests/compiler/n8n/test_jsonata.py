"""compiler.n8n.jsonata against the runner's JavaScript: wherever a translation's guard holds,
its JSONata value is QuickJS's value of the n8n expression (functions/js), on the same item.

Table cases name the JavaScript corners (``+`` on strings, ``==`` coercions, truthiness,
undefined, number text); seeded random expressions over random items cover the rest
(hypothesis is not installed). Every case also checks that the guard never fails and that
enough cases pass their guards for the comparison to mean something.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from compiler.jsonata_compat import compile_expression
from compiler.n8n.jsonata import HELPERS, Translation, translate
from functions.js import UNDEFINED, ExpressionEvaluator, NodeRunData
from functions.js.engine import JsEngine

MISSING = object()

ITEMS: list[dict[str, Any]] = [
    {"a": 5, "b": 2, "s": "x", "t": "10", "o": {"a": 1, "b": "y"}, "f": 0.1, "z": 0,
     "n": None, "e": "", "yes": True, "no": False, "l": [1, 2], "m": {}},
    {"a": -3, "b": 0, "s": "", "t": " 5 ", "o": [1], "f": 2.5, "z": 1e-7, "n": 7,
     "e": "0", "yes": 1, "no": None, "l": [], "m": {"k": None}},
    {"a": "7", "b": "7", "s": "😀é", "t": True, "o": None, "f": 1e21, "z": -0.5,
     "yes": "false", "no": 0, "l": ["x"], "m": "text"},
    {"a": 1e200, "b": 1e-200, "s": "abc", "o": {"a": {"a": 3}}, "f": 0.30000000000000004,
     "z": 123456789012345678, "n": False, "e": [], "yes": {}, "l": [[1]], "m": 2.0},
    {},
]

TABLE = [
    "={{ $json.a }}", "={{ $json.o.a }}", "={{ $json.o.a.a }}", '={{ $json["s"] }}',
    "={{ $json.missing }}", "={{ $json.a + $json.b }}", "={{ $json.s + $json.a }}",
    "={{ $json.a + 1 }}", "={{ 'n: ' + $json.f }}", "={{ $json.a - $json.b }}",
    "={{ $json.a * $json.f }}", "={{ $json.a / $json.b }}", "={{ $json.a % $json.b }}",
    "={{ -$json.a }}", "={{ $json.a === $json.b }}", "={{ $json.a !== 5 }}",
    "={{ $json.a == $json.b }}", "={{ $json.n == null }}", "={{ $json.missing != null }}",
    "={{ $json.a > $json.b }}", "={{ $json.a <= 5 }}", "={{ !$json.e }}", "={{ !$json.l }}",
    "={{ !$json.m }}", "={{ $json.z && $json.s }}", "={{ $json.e || 'default' }}",
    "={{ $json.yes ? 'y' : 'n' }}", "={{ ($json.a + 1) * 2 }}", "={{ $itemIndex }}",
    "={{ $itemIndex + 1 }}", "=id-{{ $json.a }}-{{ $itemIndex }}", "=hello",
    "={{ $json.n }}/{{ $json.missing }}", "={{ 1 }}{{ 2 }}", "={{ 'a' + 'b' }}",
    "={{ 0.1 + 0.2 }}", "={{ 1 / 3 }}", "={{ $json.f + '' }}", "={{ $json.z + '' }}",
    "={{ true + '' }}", "={{ null + 'x' }}", "={{ $json.yes === true }}",
    "={{ $json.o.b === 'y' && $json.a > 1 }}", "={{ $json.l }}", "={{ $json.o }}",
    "={{ $json.a >= 0 ? $json.a : -$json.a }}", "={{ 5 % -3 }}", "={{ -7 % 3 }}",
    "={{ $json.length }}", "={{ \"it's\" + \"\\n\" }}",
]

NOT_TRANSLATABLE = [
    "={{ $json.a.toString() }}", "={{ $('Node').item.json.a }}", "={{ $node['X'].json }}",
    "={{ $now }}", "={{ $json?.a }}", "={{ $json.a ?? 1 }}", "={{ /a/.test($json.s) }}",
    "={{ `x${$json.a}` }}", "={{ $json[0] }}", "={{ $json.constructor }}",
    "={{ $json[$json.k] }}", "={{ Math.max(1, 2) }}", "={{ undefined }}", "={{ +$json.a }}",
    "={{ $json.a = 1 }}", "={{ 012 }}", "={{ 1e400 }}", "={{ 9007199254740993 }}",
    "={{ }}", "={{ $json.a }", "={{ a }} }}", "={{ '\\x41' }}", "={{ $input.item }}",
]


def _js_values(expressions: list[str], items: list[dict[str, Any]]) -> list[list[Any]]:
    """QuickJS's value of every expression for every item (MISSING when it raises)."""
    engine = JsEngine()
    data = NodeRunData(node="N", input_items=[{"json": item} for item in items])
    results: list[list[Any]] = []
    for expression in expressions:
        evaluator = ExpressionEvaluator(data, {"v": expression}, engine=engine)
        row = []
        for index in range(len(items)):
            try:
                row.append(evaluator.resolve(index)["v"])
            except Exception:  # noqa: BLE001 - an n8n expression error
                row.append(MISSING)
        results.append(row)
    return results


def _jsonata(translation: Translation, items: list[dict[str, Any]]) -> list[tuple[bool, Any]]:
    """(guard, value) for every item, as a native state evaluates them (one JSONata call)."""
    source = (f"({HELPERS}[$map($$, function($json, $index) {{ ($g := {translation.guard}; "
              f'$g ? {{"g": $g, "v": {translation.value}}} : {{"g": $g}}) }})])')
    results = compile_expression(source).evaluate(items)
    assert len(results) == len(items)
    for result in results:
        assert isinstance(result["g"], bool), (translation.guard, result)
    return [(r["g"], r.get("v", UNDEFINED) if r["g"] else None) for r in results]


def _same(js: Any, native: Any) -> bool:
    if js is UNDEFINED or native is UNDEFINED:
        return js is native
    if isinstance(js, bool) or isinstance(native, bool):
        return isinstance(js, bool) and isinstance(native, bool) and js == native
    if isinstance(js, int | float) and isinstance(native, int | float):
        return js == native or (math.isnan(js) and math.isnan(native))
    if isinstance(js, list) and isinstance(native, list):
        return len(js) == len(native) and all(map(_same, js, native))
    if isinstance(js, dict) and isinstance(native, dict):
        return js.keys() == native.keys() and all(_same(js[k], native[k]) for k in js)
    return type(js) is type(native) and js == native


def _check(expressions: list[str], items: list[dict[str, Any]]) -> tuple[int, int]:
    """Compare every translatable expression on every item; (guarded cases, all cases)."""
    translations = {e: translate(e) for e in expressions}
    usable = [e for e in expressions if translations[e] is not None]
    expected = _js_values(usable, items)
    passed = total = 0
    for expression, row in zip(usable, expected, strict=True):
        translation = translations[expression]
        assert translation is not None
        for index, (item, (guarded, value)) in enumerate(
                zip(items, _jsonata(translation, items), strict=True)):
            total += 1
            if not guarded:
                continue
            passed += 1
            assert row[index] is not MISSING, (expression, item)
            assert _same(row[index], value), (expression, item, row[index], value)
    return passed, total


def test_table_cases_match_quickjs_where_guarded() -> None:
    assert all(translate(e) is not None for e in TABLE), \
        [e for e in TABLE if translate(e) is None]
    passed, total = _check(TABLE, ITEMS)
    assert passed > total // 2  # the guards leave most of the table native


@pytest.mark.parametrize("expression", NOT_TRANSLATABLE)
def test_outside_the_subset_is_not_translated(expression: str) -> None:
    assert translate(expression) is None


def test_literals_translate_as_themselves() -> None:
    for value in ("text", 3, 2.5, True, None):
        translation = translate(value)
        assert translation is not None
        assert _jsonata(translation, [{}]) == [(True, value)]
    assert translate(2**60) is None and translate({"a": 1}) is None


# --------------------------------------------------------------------------- random

_LEAVES = ["$json.a", "$json.b", "$json.s", "$json.t", "$json.f", "$json.z", "$json.n",
           "$json.e", "$json.yes", "$json.no", "$json.l", "$json.m", "$json.o.a",
           "$json.o.b", "$json.missing", '$json["a"]', "$itemIndex", "0", "1", "2.5", "-1",
           "'x'", "''", "'5'", "true", "false", "null", "1e-7", "0.1"]
_BINARY = ["+", "-", "*", "/", "%", "===", "!==", "==", "!=", "<", "<=", ">", ">=", "&&",
           "||"]


def _expression(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth == 0 or roll < 0.3:
        return rng.choice(_LEAVES)
    if roll < 0.4:
        return f"!{_expression(rng, depth - 1)}"
    if roll < 0.45:
        return f"-({_expression(rng, depth - 1)})"
    if roll < 0.55:
        return (f"({_expression(rng, depth - 1)} ? {_expression(rng, depth - 1)} : "
                f"{_expression(rng, depth - 1)})")
    return f"({_expression(rng, depth - 1)} {rng.choice(_BINARY)} {_expression(rng, depth - 1)})"


def test_random_expressions_match_quickjs_where_guarded() -> None:
    rng = random.Random(12)
    expressions = []
    for _ in range(300):
        body = _expression(rng, 3)
        if rng.random() < 0.2:
            expressions.append(f"=v {{{{ {body} }}}} w")
        else:
            expressions.append(f"={{{{ {body} }}}}")
    passed, total = _check(expressions, ITEMS)
    assert total == len(expressions) * len(ITEMS)  # every generated expression translates
    assert passed > total // 4
