"""Where n8n's conformance corpus lives in the repository, and its index.

The corpus (n8n's own node-test workflows, see ``corpus/README.md``) is copied byte for byte
into ``tests/n8n/corpus`` so a clean clone runs it; ``test_corpus_index`` checks every file
against the sha256 in ``index.json``. This module is the one place that knows the path.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"


@cache
def index() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return result


def entries() -> list[dict[str, Any]]:
    """Every workflow the index lists (offline or not)."""
    return list(index()["entries"])


def offline_entries() -> list[dict[str, Any]]:
    """The workflows n8n's harness runs without network, credentials or binary files."""
    return [entry for entry in entries() if entry["offlineRunnable"]]


def short_name(entry: dict[str, Any]) -> str:
    """``If/test_if_v1.json``: the entry's file below ``workflows/`` (its test id)."""
    return str(entry["file"]).removeprefix("workflows/")


def path_of(entry: dict[str, Any]) -> Path:
    return CORPUS / entry["file"]
