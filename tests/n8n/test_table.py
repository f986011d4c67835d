"""The docs table: rendered from verdicts, and in step with expected_failures.json."""

from __future__ import annotations

from tests.n8n.corpus_index import offline_entries, short_name
from tests.n8n.expectations import expected_failures
from tests.n8n.harness import COMPILE_ERROR, PASS, Lowering, Verdict
from tests.n8n.table import DOC, EXCLUDED, failing_in_doc, render, still_expected


def test_the_doc_shows_the_failures_expected_failures_json_lists() -> None:
    """Regenerate with ``python -m tests.n8n.table`` when this fails."""
    assert failing_in_doc(DOC.read_text(encoding="utf-8")) == set(expected_failures())


def _verdicts(failing: set[str]) -> dict[str, Verdict]:
    return {short_name(entry): Verdict(short_name(entry), COMPILE_ERROR, "a | b", None)
            if short_name(entry) in failing
            else Verdict(short_name(entry), PASS, "", Lowering(native=1, runner=3))
            for entry in offline_entries()}


def test_render_counts_passes_and_native_nodes_and_lists_failures() -> None:
    failing = {short_name(entry) for entry in offline_entries()[:3]}
    text = render(_verdicts(failing))
    passed = len(offline_entries()) - 3
    assert f"**{passed} of {len(offline_entries())} offline workflows pass" in text
    assert f": {passed} of {4 * passed} (25%) in the {passed} workflows that compile." in text
    assert failing_in_doc(text) == failing
    assert "compile error: a \\| b" in text  # a pipe in a reason does not split the row
    assert f"| {EXCLUDED} |" in text  # the one workflow that needs more than offline


def test_rewriting_the_list_keeps_hand_written_reasons_of_what_still_fails() -> None:
    verdicts = {"a": Verdict("a", COMPILE_ERROR, "x"), "b": Verdict("b", PASS),
                "c": Verdict("c", COMPILE_ERROR, "new")}
    known = {"a": "why a fails", "b": "why b failed"}
    assert still_expected(known, verdicts) == {"a": "why a fails", "c": "compile error: new"}
