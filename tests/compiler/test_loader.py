"""compiler.loader: bounded and total. Each hostile file of issue 11 ("Documents") is one
``WorkflowInvalid`` naming file, node and field, returned in milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import WorkflowInvalid, compile_workflow, load_file, load_text
from compiler.document import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_VALUES
from compiler.errors import Problem
from compiler.loader import load_bytes
from tests.support.timing import cpu_clock

# Each refusal below takes well under a millisecond of CPU; the bound only has to tell
# "refused at once" from a hang or an expansion (the alias bomb ran for minutes), so it is
# generous: one fresh-clone run once saw 0.95 s of CPU on a quarter-millisecond case.
# (tests.support.timing.cpu_clock: this thread's CPU time, GC paused.)
QUICK_SECONDS = 2.0

WORKFLOW = """\
name: hostile
nodes:
  - {name: Start, type: manualTrigger}
  - name: Tag
    type: set
    parameters:
      values: {when: %s}
connections: [{from: Start, to: Tag}]
"""


def _problems(text: str, source: str = "doc.yaml") -> list[Problem]:
    with cpu_clock() as elapsed, pytest.raises(WorkflowInvalid) as caught:
        load_text(text, source)
    assert elapsed() < QUICK_SECONDS
    return caught.value.problems


def _one(text: str, source: str = "doc.yaml") -> Problem:
    problems = _problems(text, source)
    assert len(problems) == 1, problems
    assert problems[0].message.startswith(f"{source}: ")  # names the file
    return problems[0]


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each anchor lists the previous one ``width`` times
    (9 levels of 9: 387,420,489 values from ~350 bytes)."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_yaml_1_2_reads_what_pyyaml_refused() -> None:
    assert load_text("{name: Even?, on: push, answer: yes}") == {
        "name": "Even?", "on": "push", "answer": "yes"}


def test_a_file_that_is_not_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(WorkflowInvalid) as caught:
        load_file(path)
    (problem,) = caught.value.problems
    assert str(path) in problem.message
    assert "not UTF-8" in problem.message and "offset 9" in problem.message


def test_a_yaml_integer_of_5000_digits_is_a_problem_naming_node_and_field() -> None:
    problem = _one(WORKFLOW % ("9" * 5000))
    assert (problem.node, problem.field) == ("Tag", "parameters.values.when")
    assert "4,300 digits" in problem.message and "line 7" in problem.message


def test_a_json_integer_of_5000_digits_is_a_problem() -> None:
    problem = _one('{"name": "x", "n": ' + "1" * 5000 + "}", "doc.json")
    assert "4,300 digits" in problem.message and "offset 19" in problem.message


@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, "[" * 10_000,
                                  '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_json_nested_10000_deep_is_a_problem_not_a_recursion_error(text: str) -> None:
    assert f"nested more than {MAX_DEPTH} deep" in _one(text).message


def test_yaml_nested_too_deep_is_a_problem() -> None:
    text = "a:\n" + "".join("  " * i + "-\n" for i in range(1, 400))
    assert f"nested more than {MAX_DEPTH} deep" in _one(text).message


@pytest.mark.parametrize("text", ["a: " + "[" * 7000, "a: " + "[x, " * 3000,
                                  "a: " + "{b: " * 3000])
def test_yaml_flow_collections_nested_thousands_deep_are_refused_in_milliseconds(
        text: str) -> None:
    """ruamel's scanner checks every open level at every token: 7,000 ``[`` took seconds
    before its composer's depth limit applied."""
    assert f"nested more than {MAX_DEPTH} deep" in _one(text).message


@pytest.mark.parametrize(("value", "what"), [
    ("2024-01-31", "a date or timestamp"),
    ("2024-01-31T10:00:00Z", "a date or timestamp"),
    ("!!binary aGVsbG8=", "binary data"),
    ("!!set {a, b}", "a set"),
    ("!custom x", "the tag !custom"),
])
def test_yaml_types_json_lacks_name_node_and_field(value: str, what: str) -> None:
    problem = _one(WORKFLOW % value)
    assert (problem.node, problem.field) == ("Tag", "parameters.values.when")
    assert what in problem.message


def test_a_key_that_is_not_a_string_is_a_problem() -> None:
    problem = _one(WORKFLOW.replace("{when: %s}", "{1: one}"))
    assert (problem.node, problem.field) == ("Tag", "parameters.values")
    assert "not a string" in problem.message


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": -Infinity}', "a: .nan", "a: .inf"])
def test_nan_and_infinity_are_problems(text: str) -> None:
    assert "not a JSON number" in _one(text).message


def test_a_lone_surrogate_is_a_problem() -> None:
    problem = _one('{"name": "x", "nodes": [{"name": "\\ud800"}]}', "doc.json")
    assert "lone surrogate" in problem.message


def test_a_recursive_anchor_is_a_problem() -> None:
    assert "recursive alias" in _one("&r {k: *r}").message


def test_a_small_alias_bomb_is_refused_in_milliseconds() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 1400
    assert f"more than {MAX_VALUES:,} values" in _one(bomb).message


def test_an_alias_bomb_in_pin_data_is_refused_by_the_loader() -> None:
    """``validate`` accepted it in 0.7 s while ``sfnflow run`` grew to 5.6 GB."""
    document = WORKFLOW % "1" + "pinData:\n  Tag: [{laughs: *l8}]\n"
    problem = _one(alias_bomb() + document)
    assert "alias bomb" in problem.message


def test_aliases_within_the_limits_still_load() -> None:
    document = load_text("base: &b {retry: 1}\none: *b\ntwo: {<<: *b, more: 2}\n")
    assert document == {"base": {"retry": 1}, "one": {"retry": 1},
                        "two": {"retry": 1, "more": 2}}


def test_a_document_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text('{"notes": "' + "x" * MAX_DOCUMENT_BYTES + '"}')
    with pytest.raises(WorkflowInvalid) as caught:
        load_file(path)
    assert "byte limit" in caught.value.problems[0].message


@pytest.mark.parametrize("text", ["\x00garbage", "a: 1\n---\nb: 2", "a: 1\na: 2", "[1, 2",
                                  "key: [unclosed", "\t- tab"])
def test_garbage_is_a_syntax_problem(text: str) -> None:
    assert _one(text).code == "syntax"


def test_binary_garbage_is_a_problem() -> None:
    with pytest.raises(WorkflowInvalid):
        load_bytes(bytes(range(256)), "garbage.bin")


def test_validation_checks_documents_that_did_not_come_through_the_loader() -> None:
    """The API parses its own bodies: validation refuses non-JSON values too."""
    import datetime

    document = load_text(WORKFLOW % "1")
    document["nodes"][1]["parameters"]["values"]["when"] = datetime.date(2024, 1, 31)
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(document)
    (problem,) = caught.value.problems
    assert (problem.node, problem.field) == ("Tag", "parameters.values.when")
    assert "a date" in problem.message
