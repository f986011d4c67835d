"""The expected failures of the conformance suite: one data file, ``expected_failures.json``,
``{file: reason}`` with ``file`` as the corpus index names it below ``workflows/``.

``test_conformance`` turns a listed workflow that fails into an xfail with the reason and a
listed workflow that passes into an error, so the file always tells the truth; the docs
table is generated from the same runs and checked against it.
"""

from __future__ import annotations

import json
from pathlib import Path

EXPECTED_FAILURES = Path(__file__).resolve().parent / "expected_failures.json"
NOW_PASSES = "now passes: remove it from expected_failures.json"


def expected_failures() -> dict[str, str]:
    loaded: dict[str, str] = json.loads(EXPECTED_FAILURES.read_text(encoding="utf-8"))
    return loaded


def write_expected_failures(failures: dict[str, str]) -> None:
    text = json.dumps(dict(sorted(failures.items())), indent=2, ensure_ascii=False)
    EXPECTED_FAILURES.write_text(text + "\n", encoding="utf-8")
