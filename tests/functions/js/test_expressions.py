"""n8n expressions on QuickJS. Expected values were taken from n8n 1.123's own engine (the
n8n-peer harness, evaluating the same expressions over the same run data)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from functions.js.engine import Limits
from functions.js.errors import ExpressionEvaluationError
from functions.js.expressions import UNDEFINED, ExpressionEvaluator, evaluate
from functions.js.run_data import NodeInfo, NodeRunData, Source, TaskData

SRC_ITEMS = [
    {"json": {"a": 1, "s": "hi", "o": {"x": [1, 2]}}, "pairedItem": {"item": 0}},
    {"json": {"a": 2, "s": "yo"}, "pairedItem": {"item": 0}},
]
NOW = 1704164645000  # 2024-01-02T03:04:05Z


def data(**overrides: object) -> NodeRunData:
    base: dict[str, object] = {
        "node": "Probe",
        "input_items": [{"json": item["json"]} for item in SRC_ITEMS],
        "sources": [Source("Src")],
        "run_data": {"Src": [TaskData(outputs=[SRC_ITEMS])]},
        "nodes": {
            "Src": NodeInfo("Src", parameters={"p": 1}, context={"noItemsLeft": True}),
            "Probe": NodeInfo("Probe"),
        },
        "connections": {"Src": {"main": [[{"node": "Probe", "type": "main", "index": 0}]]}},
        "workflow": {"id": "wf1", "name": "Probe WF", "active": False},
        "execution": {
            "id": "exec-1",
            "mode": "manual",
            "resumeUrl": "http://localhost/webhook-waiting/exec-1",
        },
        "variables": {"region": "eu"},
        "now_millis": NOW,
    }
    base.update(overrides)
    return NodeRunData(**base)  # type: ignore[arg-type]


# (expression, item index, n8n's result)
N8N_CASES = [
    ("={{ $json.a }}", 0, 1),
    ("={{ $json.o }}", 0, {"x": [1, 2]}),
    ("=x{{ $json.o }}y", 0, "x[object Object]y"),
    ("={{ $json.o }} ", 0, "[object Object] "),
    ("=a{{ null }}b{{ undefined }}c{{ false }}d{{ 0 }}e{{ [1,'a'] }}", 0, "abcfalsed0e1,a"),
    ("=v:{{ $json.nope.deeper }}", 0, "v:"),
    ("=plain", 0, "plain"),
    ("={{ 'abc'.toTitleCase() }}", 0, "Abc"),
    ("={{ $('Src').item.json.s }}", 1, "yo"),
    ("={{ $now.toISO().length }}", 0, 24),
    ("={{ $workflow }}", 0, {"active": False, "id": "wf1", "name": "Probe WF"}),
    ("={{ $prevNode }}", 0, {"name": "Src", "outputIndex": 0, "runIndex": 0}),
    ("={{ $itemIndex }}-{{ $runIndex }}", 1, "1-0"),
    (
        "={{ $input.all().length }} {{ $input.first().json.a }} "
        "{{ $input.last().json.a }} {{ $input.item.json.a }}",
        1,
        "2 1 2 2",
    ),
    ("={{ $node['Src'].json }}", 0, {"a": 1, "s": "hi", "o": {"x": [1, 2]}}),
    ("={{ $items('Src').length }}", 0, 2),
    ("={{ $binary }}", 0, {}),
    ("=x{{ DateTime.fromISO('2024-01-02T03:04:05Z') }}", 0, "x2024-01-02T03:04:05.000Z"),
    ("={{ DateTime.fromISO('2024-01-02T03:04:05Z') }}", 0, "2024-01-02T03:04:05.000Z"),
    ("={{ $jmespath($json, 'o.x[0]') }}", 0, 1),
    (
        "={{ $if($json.a > 0, 'p', 'n') }} {{ $ifEmpty('', 'def') }} "
        "{{ $min(3,1) }} {{ $max(3,9) }}",
        0,
        "p def 1 9",
    ),
    ("={{ NaN }}", 0, None),
    ("=x{{ NaN }}", 0, "x"),
    ("={{ 'a\\\\{{b' }}", 0, "a\\{{b"),
    ("=\\{{ 1 }}", 0, "\\{{ 1 }}"),
    ("={{ (() => { throw new Error('boom') })() }}", 0, UNDEFINED),
    ("={{ $json.missing.toUpperCase() }}", 0, UNDEFINED),
]


@pytest.mark.parametrize(("expression", "item", "expected"), N8N_CASES)
def test_expression_results_match_n8n(expression: str, item: int, expected: object) -> None:
    assert evaluate(data(), expression, item) == expected


def test_undefined_is_a_distinct_value() -> None:
    assert evaluate(data(), "={{ $json.nope.deeper }}") is UNDEFINED
    assert evaluate(data(), "={{ null }}") is None


def test_text_without_parts_and_non_expressions_pass_through() -> None:
    resolved = ExpressionEvaluator(data(), {"a": "plain", "b": 3, "c": "=text"}).resolve(0)
    assert resolved == {"a": "plain", "b": 3, "c": "text"}


def test_nested_parameters_resolve_recursively() -> None:
    params = {
        "fields": [{"name": "x", "value": "={{ $json.a * 10 }}"}],
        "opt": {"deep": "={{ $json.s }}!"},
    }
    evaluator = ExpressionEvaluator(data(), params)
    assert evaluator.resolve_all() == [
        {"fields": [{"name": "x", "value": 10}], "opt": {"deep": "hi!"}},
        {"fields": [{"name": "x", "value": 20}], "opt": {"deep": "yo!"}},
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("={{ $('Nope').item }}", "Referenced node doesn't exist"),
        ("={{ 1 + }}", "invalid syntax"),
        ("=t {{ {a:{b:1}} }}", "invalid syntax"),
        ("=t {{ $now.constructor.name }}", "invalid constructor"),
        ("={{ $env.HOME }}", "access to env vars denied"),
        ("={{ [1, 'a'].sum() }}", "all array elements must be numbers"),
        ("={{ $json.missing.toTitleCase() }}", "toTitleCase can't be used on undefined value"),
    ],
)
def test_errors_name_node_parameter_and_item(expression: str, message: str) -> None:
    evaluator = ExpressionEvaluator(data(), {"options": {"list": ["ok", expression]}})
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluator.resolve(1)
    error = caught.value
    assert (error.node, error.parameter, error.item_index) == ("Probe", "options.list[1]", 1)
    assert message in error.reason
    assert error.error_type == "Sfnflow.ExpressionError"


def test_legacy_node_json_past_the_referenced_nodes_items_is_an_error() -> None:
    three_inputs = data(input_items=[{"json": {}}] * 3)
    with pytest.raises(ExpressionEvaluationError) as caught:
        ExpressionEvaluator(three_inputs, {"v": "={{ $node['Src'].json.a }}"}).resolve(2)
    assert caught.value.reason == '"Src" node has 2 item(s) but you\'re trying to access item 2'


def test_globals_execution_vars_and_node_context() -> None:
    d = data()
    assert evaluate(d, "={{ $execution.id }} {{ $execution.mode }} {{ $execution.resumeUrl }}") == (
        "exec-1 test http://localhost/webhook-waiting/exec-1"
    )
    assert evaluate(d, "={{ $execution.customData.set('k', 1) }}") is UNDEFINED
    assert (
        evaluate(data(execution={"id": "e2", "mode": "webhook"}), "={{ $execution.mode }}")
        == "production"
    )
    assert evaluate(d, "={{ $vars.region }}") == "eu"
    assert evaluate(d, "={{ $node['Src'].context.noItemsLeft }}") is True
    assert evaluate(d, "={{ $node['Src'].parameter.p }}") == 1
    assert evaluate(d, "={{ $('Src').params.p }}") == 1
    assert evaluate(d, "={{ $('Src').isExecuted }}") is True
    assert (
        evaluate(
            d,
            "={{ $('Src').first().json.a }}-{{ $('Src').last().json.a }}-"
            "{{ $('Src').all().length }}",
        )
        == "1-2-2"
    )
    assert evaluate(d, "={{ $('Src').itemMatching(1).json.s }}") == "yo"


def test_now_and_today_are_luxon_datetimes_in_the_workflow_zone() -> None:
    assert evaluate(data(), "={{ $now.toISO() }}") == "2024-01-02T03:04:05.000Z"
    assert evaluate(data(), "={{ $today.toISO() }}") == "2024-01-02T00:00:00.000Z"
    berlin = data(timezone="Europe/Berlin")
    assert evaluate(berlin, "={{ $now.toISO() }}") == "2024-01-02T04:04:05.000+01:00"
    assert evaluate(berlin, "={{ $now.set({month: 7}).offset }}") == 120
    assert evaluate(data(), "={{ $now.plus(1, 'week').toFormat('yyyy-MM-dd') }}") == "2024-01-09"
    assert evaluate(data(), "={{ Duration.fromObject({hours: 2}).as('minutes') }}") == 120
    assert (
        evaluate(data(), "={{ Interval.fromDateTimes($today, $now).length('hours') > 3 }}") is True
    )


# Every expected value below is n8n 1.123's answer for the same expression.
EXTENSIONS = [
    ("'hello world'.isEmpty()", False),
    ("''.isNotEmpty()", False),
    ("'12.5'.toNumber()", 12.5),
    ("'42px'.toInt()", 42),
    ("'3.7'.toFloat()", 3.7),
    ("'yes'.toBoolean()", True),
    ("'false'.toBoolean()", False),
    ("'2024-01-02'.toDateTime().year", 2024),
    ("'mail me: a.b@example.com now'.extractEmail()", "a.b@example.com"),
    ("'see https://n8n.io/x?y=1 ok'.extractUrl()", "https://n8n.io/x?y=1"),
    ("'https://www.example.com/path'.extractDomain()", "www.example.com"),
    ("'a@b.io'.isEmail()", True),
    ("'https://example.com'.isUrl()", True),
    ("'12.5'.isNumeric()", True),
    ("'# Title\\n**bold**'.removeMarkdown()", "Title\nbold"),
    ("'the quick brown fox'.toTitleCase()", "The Quick Brown Fox"),
    ("'hello. how ARE you?'.toSentenceCase()", "Hello. How are you?"),
    ("'Hello World-x'.toSnakeCase()", "hello_world_x"),
    ("'a b&c'.urlEncode()", "a%20b%26c"),
    ("'a%20b'.urlDecode()", "a b"),
    ("'abc'.hash('sha256')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("'abc'.hash()", "900150983cd24fb0d6963f7d28e17f72"),
    ("'héllo'.base64Encode()", "aMOpbGxv"),
    ("'aMOpbGxv'.base64Decode()", "héllo"),
    ("'say \"hi\"'.quote()", '"say \\"hi\\""'),
    ("'Ångström'.replaceSpecialChars()", "Angstrom"),
    ("(1.256).round(2)", 1.26),
    ("(1.5).floor() + (1.2).ceil()", 3),
    ("(1234567.891).format()", "1,234,567.891"),
    ("(4).isEven() && (3).isOdd()", True),
    ("(0).toBoolean()", False),
    ("(1704164645000).toDateTime().toISO()", "2024-01-02T03:04:05.000Z"),
    ("[3, 1, 2].first() + [3, 1, 2].last()", 5),
    ("[1, 1, 2].unique()", [1, 2]),
    ("[1, 2, 3].sum() + [1, 2, 3].min() + [1, 2, 3].max() + [1, 2, 3].average()", 12),
    ("[{a: 1, b: 2}, {a: 3}].pluck('a')", [1, 3]),
    ("[1, 2, 3, 4, 5].chunk(2)", [[1, 2], [3, 4], [5]]),
    ("[0, null, '', 'x', {}, {a: null}].compact()", [0, "x", {}]),
    ("[].isEmpty() && [1].isNotEmpty()", True),
    ("[1, 2, 3].includes([1, 2, 3].randomItem())", True),
    ("[1, 2, 3].difference([2])", [1, 3]),
    ("[1, 2, 3].intersection([2, 5])", [2]),
    ("[1, 2].union([2, 3])", [1, 2, 3]),
    ("[{a: 1}, {b: 2}, {a: 9}].merge()", {"a": 1, "b": 2}),
    ("[{k: 'x', v: 1}, {k: 'y', v: 2}].smartJoin('k', 'v')", {"x": 1, "y": 2}),
    ("[{a: 1, b: 1}, {a: 1, b: 2}].removeDuplicates('a')", [{"a": 1, "b": 1}]),
    ("[{a: 1}].renameKeys('a', 'z')", [{"z": 1}]),
    ("({}).isEmpty() && ({a: 1}).isNotEmpty()", True),
    ("({a: 1, b: 2}).keys()", ["a", "b"]),
    ("({a: 1, b: 2}).values()", [1, 2]),
    ("({a: 1}).hasField('a')", True),
    ("({a: 1, b: 2}).removeField('a')", {"b": 2}),
    ("({a: 'xy', b: 'z'}).removeFieldsContaining('x')", {"b": "z"}),
    ("({a: 'xy', b: 'z'}).keepFieldsContaining('x')", {"a": "xy"}),
    ("({a: null, b: '', c: 1}).compact()", {"c": 1}),
    ("({a: 1}).toJsonString()", '{"a":1}'),
    ("({a: 'x y', b: 1}).urlEncode()", "a=x+y&b=1"),
    ("DateTime.fromISO('2024-01-06T10:00:00Z').isWeekend()", True),
    ("DateTime.fromISO('2024-01-02T10:00:00Z').beginningOf('month').toISODate()", "2024-01-01"),
    ("DateTime.fromISO('2024-02-10T10:00:00Z').endOfMonth().day", 29),
    ("DateTime.fromISO('2024-01-02T10:00:00Z').extract('month')", 1),
    ("DateTime.fromISO('2024-01-02T10:00:00Z').format('dd LLL yyyy')", "02 Jan 2024"),
    ("DateTime.fromISO('2024-01-02T10:00:00Z').minus(2, 'days').toISODate()", "2023-12-31"),
    ("DateTime.fromISO('2024-01-02').isBetween('2024-01-01', '2024-01-03')", True),
    ("DateTime.fromISO('2024-01-03').diffTo('2024-01-01', 'days')", 2),
]


@pytest.mark.parametrize(("source", "expected"), EXTENSIONS)
def test_extension_methods(source: str, expected: object) -> None:
    assert evaluate(data(), "={{ " + source + " }}") == expected


def test_extensions_do_not_leak_into_data() -> None:
    assert evaluate(data(), "={{ JSON.stringify($json) }}") == '{"a":1,"s":"hi","o":{"x":[1,2]}}'
    assert evaluate(data(), "={{ Object.keys({a: 1}).length }}") == 1
    assert evaluate(data(input_items=[{"json": {"keys": "mine"}}]), "={{ $json.keys }}") == "mine"


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("={{ (() => { while (true) {} })() }}", "time"),
        (
            "={{ (() => { const a = []; while (true) a.push(new Array(100000).fill(1)); })() }}",
            "memory",
        ),
    ],
)
def test_runaway_expressions_end_as_typed_errors_within_the_limit(
    expression: str, kind: str
) -> None:
    limits = Limits(cpu_seconds=0.1, memory_bytes=16 * 1024 * 1024)
    started = time.process_time()
    with pytest.raises(ExpressionEvaluationError) as caught:
        ExpressionEvaluator(data(), {"v": expression}, limits=limits).resolve(0)
    assert f"{kind} limit exceeded" in caught.value.reason
    assert caught.value.item_index == 0
    assert time.process_time() - started < 3


GOLDEN = json.loads(
    (Path(__file__).parent / "n8n_expression_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda case: case["expression"][:60])
def test_golden_cases_recorded_from_n8n(case: dict[str, object]) -> None:
    expected = case["n8n"]
    if isinstance(expected, str) and expected.startswith("ERR "):
        with pytest.raises(ExpressionEvaluationError) as caught:
            evaluate(data(), case["expression"])
        assert caught.value.reason == expected[4:]
        return
    result = evaluate(data(), case["expression"])
    assert (UNDEFINED if expected == "UNDEFINED" else expected) == result


def test_a_long_string_built_by_concatenation_comes_back_whole() -> None:
    """QuickJS keeps such strings as ropes, which quickjs-ng's binding could not convert
    ("Unknown quickjs tag: -6"): six of n8n's conformance workflows failed on it."""
    built = evaluate(data(), "={{ 'x'.repeat(100) + 'y'.repeat(5000) }}")
    assert built == "x" * 100 + "y" * 5000
    looped = evaluate(data(), "={{ (() => { let s = ''; for (let i = 0; i < 2000; i++) "
                              "s += 'ab' + i; return s })() }}")
    assert isinstance(looped, str) and len(looped) == 10_890
