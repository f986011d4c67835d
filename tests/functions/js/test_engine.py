"""The QuickJS engine: Luxon on first use, error classification, Python bridges and limits."""

from __future__ import annotations

import pytest

from functions.js.code_node import run_code
from functions.js.engine import JsEngine, Limits, classify
from functions.js.errors import CodeNodeError, JsError, JsLimitExceeded
from functions.js.run_data import NodeRunData


def test_luxon_is_parsed_only_when_a_date_is_used() -> None:
    engine = JsEngine()
    assert engine.eval("__luxonLoaded()") is False
    assert engine.eval("'abc'.toTitleCase() + [1, 2].sum()") == "Abc3"
    assert engine.eval("__luxonLoaded()") is False
    assert engine.eval("DateTime.fromMillis(0, {zone: 'utc'}).year") == 1970
    assert engine.eval("__luxonLoaded() && typeof DateTime.prototype.format") == "function"


def test_dates_before_luxon_loads_still_get_extensions() -> None:
    engine = JsEngine()
    assert engine.eval("new Date(0).plus(1, 'day').getTime()") == 86_400_000
    assert engine.eval("new Date(0).minus(1).getTime()") == -60_000  # n8n: a bare number is minutes
    assert engine.eval("'1970-01-02T00:00:00Z'.toDateTime().toMillis()") == 86_400_000


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("InternalError: interrupted", "time"),
        ("InternalError: out of memory", "memory"),
        ("RangeError: Maximum call stack size exceeded", "stack"),
    ],
)
def test_classify_recognises_limits(message: str, kind: str) -> None:
    error = classify(message)
    assert isinstance(error, JsLimitExceeded)
    assert error.kind == kind


def test_other_engine_errors_are_plain_js_errors() -> None:
    with pytest.raises(JsError, match="ReferenceError"):
        JsEngine().eval("nope()")


def test_python_bridges_for_zones_hashes_and_jmespath() -> None:
    engine = JsEngine(Limits(cpu_seconds=5))
    engine.set_time_limit(None)
    assert engine.eval("luxon.IANAZone.isValidZone('Europe/Paris')") is True
    assert engine.eval("luxon.IANAZone.isValidZone('Mars/Olympus')") is False
    assert engine.eval("'abc'.hash('sha3').slice(0, 8)") == "b751850b"
    assert engine.eval("$jmespath({a: [{b: 1}, {b: 2}]}, 'a[*].b').join()") == "1,2"


def test_code_node_explains_what_needs_python() -> None:
    data = NodeRunData(node="Code", input_items=[{"json": {}}])
    with pytest.raises(CodeNodeError, match=r"\$jmespath\(\), \.hash\(\)"):
        run_code(data, "return {h: 'abc'.hash()}")
