"""The document fuzz suite (issue 11): seeded mutants of the examples and golden workflows,
hostile YAML and garbage (``tests.support.fuzz_documents``).

For every case: load + validate + compile either succeeds or raises ``WorkflowInvalid``
(nothing else escapes), within ``CASE_SECONDS``; every definition that compiles passes the
ASL checks (asl-validator, ``local.aws_rules`` and ``check_definition``'s invariants), so
what validates is a definition AWS accepts. A sample also goes through ``sfnflow validate``:
exit 0 or 2, never a traceback. ``benchmarks/fuzz_documents.py`` runs many more cases.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from typer.testing import CliRunner

from local.cli import app
from tests.compiler.test_emit import check_definition
from tests.support.asl_validator import validate_asl
from tests.support.fuzz_documents import Outcome, cases, run_case

CASES = 2_500  # ~10 ms each: the suite stays well under half a minute on one core
SEED = 11
CASE_SECONDS = 2.0  # CPU seconds of the case's thread (load-proof); the slowest takes < 0.5 s
CLI_SAMPLE = 150
ASL_VALIDATOR_SAMPLE = 30  # asl-validator costs ~0.16 s of CPU a definition: a sample of
# the accepted ones, non-ASCII first (names and values the compiler must escape); the
# Python checks (check_definition, local.aws_rules) see them all


def _outcomes() -> list[Outcome]:
    return [run_case(case) for case in cases(CASES, SEED)]


def test_every_document_compiles_or_is_invalid_quickly_and_compiles_to_valid_asl() -> None:
    outcomes = _outcomes()
    crashed = [o for o in outcomes if o.verdict == "crashed"]
    assert not crashed, "\n\n".join(f"{o.case.label}\n{o.error}" for o in crashed[:5])
    slow = [o for o in outcomes if o.seconds > CASE_SECONDS]
    assert not slow, [(o.case.label, round(o.seconds, 2)) for o in slow]
    accepted = {o.compiled.manifest["version"]: o for o in outcomes if o.compiled is not None}
    rejected = sum(o.verdict == "rejected" for o in outcomes)
    assert accepted and rejected  # the mix holds both, or the generator has gone blind
    compiled = {o.case.label: o.compiled for o in accepted.values() if o.compiled is not None}
    for workflow in compiled.values():
        check_definition(workflow)  # (runs local.aws_rules too)
    sample = sorted(compiled, key=lambda label: (
        compiled[label].definition_json().isascii(), label))[:ASL_VALIDATOR_SAMPLE]
    problems = validate_asl({label: compiled[label] for label in sample})
    invalid = {label: found for label, found in problems.items() if found}
    assert not invalid, invalid


def test_sfnflow_validate_never_prints_a_traceback(tmp_path: Path) -> None:
    files = []
    for case in itertools.islice(cases(CLI_SAMPLE, SEED + 1), CLI_SAMPLE):
        path = tmp_path / case.name
        path.write_bytes(case.data)
        files.append(str(path))
    result = CliRunner().invoke(app, ["validate", *files])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.output
    assert result.output.count("✓") + result.output.count("✗") == len(files)
