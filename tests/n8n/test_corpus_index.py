"""The in-repository corpus is n8n's files byte for byte, as its index records them."""

from __future__ import annotations

import hashlib

from tests.n8n.corpus_index import CORPUS, entries, offline_entries, path_of


def test_every_indexed_file_has_its_recorded_sha256() -> None:
    wrong = [entry["file"] for entry in entries()
             if hashlib.sha256(path_of(entry).read_bytes()).hexdigest() != entry["sha256"]]
    assert not wrong


def test_the_corpus_holds_exactly_the_indexed_workflows() -> None:
    on_disk = {str(path.relative_to(CORPUS)) for path in (CORPUS / "workflows").rglob("*.json")}
    assert on_disk == {entry["file"] for entry in entries()}
    assert len(offline_entries()) == 43
