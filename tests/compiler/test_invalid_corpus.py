"""The corpus of broken workflow documents in ``invalid/``, run by one parametrized checker.

Each file starts with a comment header. Every ``# expect:`` line names one problem the
compiler must report; a document may (and usually does) yield more problems than listed.

    # expect: node=Fetch field=type contains="unknown node type"
    # expect: node=- field=connections[0].to contains="unknown node"
    # expect: node=Check field=parameters.condition* contains="valid boolean"
    # xfail: why this case fails today (a compiler bug)

``node=-`` means a workflow-level problem (``Problem.node is None``). ``field=X`` must equal
``Problem.field``; ``field=X*`` only has to be a prefix of it. ``contains`` is a substring
of ``Problem.message``. Values with spaces are quoted (shell rules).

JSON files carry the same header; it is stripped before parsing so that the JSON parser,
not the YAML fallback, reads them. YAML files are read with ``load_file`` as is.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compiler import Problem, WorkflowInvalid, compile_workflow, load_file, load_text

CORPUS = Path(__file__).with_name("invalid")
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


@dataclass(frozen=True)
class Expectation:
    node: str | None
    field: str
    prefix: bool
    contains: str

    def matches(self, problem: Problem) -> bool:
        field_ok = (
            problem.field.startswith(self.field) if self.prefix else problem.field == self.field
        )
        return problem.node == self.node and field_ok and self.contains in problem.message

    def __str__(self) -> str:
        star = "*" if self.prefix else ""
        return f"node={self.node or '-'} field={self.field}{star} contains={self.contains!r}"


@dataclass(frozen=True)
class Case:
    path: Path
    expectations: tuple[Expectation, ...]
    xfail: str | None


def _header(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return lines


def _expectation(spec: str) -> Expectation:
    fields = dict(token.split("=", 1) for token in shlex.split(spec))
    unknown = set(fields) - {"node", "field", "contains"}
    if unknown or "contains" not in fields:
        raise ValueError(f"bad expect line {spec!r}")
    field = fields.get("field", "")
    return Expectation(
        node=None if fields.get("node", "-") == "-" else fields["node"],
        field=field.removesuffix("*"),
        prefix=field.endswith("*"),
        contains=fields["contains"],
    )


def read_case(path: Path) -> Case:
    expectations, xfail = [], None
    for line in _header(path.read_text(encoding="utf-8")):
        if line.startswith("expect:"):
            expectations.append(_expectation(line.removeprefix("expect:")))
        elif line.startswith("xfail:"):
            xfail = line.removeprefix("xfail:").strip()
    return Case(path, tuple(expectations), xfail)


def load(path: Path) -> object:
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        body = "\n".join(text.splitlines()[len(_header(text)):])
        return load_text(body, path.name)
    return load_file(path)


def compile_problems(path: Path) -> WorkflowInvalid:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(load(path))
    return info.value


def _params(paths: list[Path]) -> list[Any]:
    params: list[Any] = []
    for path in paths:
        case = read_case(path)
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        params.append(pytest.param(case, id=path.name, marks=marks))
    return params


def test_corpus_is_large_and_every_file_states_its_problems() -> None:
    assert len(FILES) >= 35
    assert {p.suffix for p in FILES} >= {".yaml", ".json"}
    for path in FILES:
        assert read_case(path).expectations, f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("case", _params(FILES))
def test_invalid_document_reports_every_expected_problem(case: Case) -> None:
    error = compile_problems(case.path)
    problems = error.problems

    assert problems, "WorkflowInvalid without problems"
    missing = [str(e) for e in case.expectations if not any(e.matches(p) for p in problems)]
    assert not missing, (
        f"{case.path.name}: expected problems not reported:\n  " + "\n  ".join(missing)
        + "\nreported:\n  " + "\n  ".join(repr(p) for p in problems)
    )

    for problem in problems:
        assert problem.message.strip(), f"empty message in {problem!r}"
        assert problem.node is None or problem.node != "", f"empty node name in {problem!r}"
    # str(error) lists each problem on its own line, in the error's order.
    assert str(error).split("\n") == [str(p) for p in problems]
    for problem in problems:
        assert "\n" not in str(problem), f"multi-line problem {problem!r}"


def test_json_files_are_read_by_the_json_parser() -> None:
    """The header is stripped, so a .json file parses as JSON (not via the YAML fallback)."""
    import json

    for path in FILES:
        if path.suffix != ".json" or path.name == "broken_json.json":
            continue
        text = path.read_text(encoding="utf-8")
        json.loads("\n".join(text.splitlines()[len(_header(text)):]))


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(WorkflowInvalid) as info:
        load_file(tmp_path / "missing.yaml")
    (problem,) = info.value.problems
    assert problem.node is None and "missing.yaml" in problem.message


def test_invalid_parameters_do_not_make_a_connected_node_unreachable() -> None:
    error = compile_problems(CORPUS / "if_missing_condition.yaml")
    assert [p.field for p in error.problems] == ["parameters.condition"]


@pytest.mark.xfail(strict=True, reason=(
    "parse_document raises on the first shape error, so semantic problems (dangling "
    "connections, cycles...) of a document that also has a shape error are not reported"
))
def test_shape_and_graph_problems_are_reported_together() -> None:
    document = {
        "name": "mixed",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Step", "type": "noOp", "onError": "ignore"},
        ],
        "connections": [{"from": "Start", "to": "Nowhere"}],
    }
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    fields = {p.field for p in info.value.problems}
    assert {"onError", "connections[0].to"} <= fields
