"""The compiled ASL of every document of ``asl_corpus`` is the recorded one.

A guard for refactorings of the compiler (the decisions pass moved every per-node and
per-block choice without changing a state): a change of ASL that is meant must re-record
the digests (``python -m tests.compiler.record_asl_digests``) in the same commit. Documents
added since the recording are not compared until it is re-run.
"""

from __future__ import annotations

import json

from tests.compiler.asl_corpus import DIGESTS, digest, documents


def test_every_document_compiles_to_its_recorded_asl() -> None:
    recorded = json.loads(DIGESTS.read_text())
    current = {name: digest(document) for name, document in documents() if name in recorded}
    assert len(current) >= len(recorded) - 5  # the corpus is still there (a few may move)
    assert sorted(name for name, value in current.items() if value != recorded[name]) == []
