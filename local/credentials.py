"""Credentials for the embedded cloud: its Secrets Manager is moto's, empty at every start,
so ``sfnflow run`` (a new cloud per run) and ``sfnflow serve`` take theirs from a file the
user keeps outside the workflows — ``SFNFLOW_CREDENTIALS_FILE``, a JSON object of
``{name: {"type": ..., fields...}}`` — created (or rotated) when the cloud starts, exactly as
``POST /credentials`` stores them. The file is the local stand-in for the values an
operator puts through the API in AWS; keep it out of version control.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from functions.config import Config
from functions.credentials import CredentialExists, CredentialInvalid, CredentialStore, store_for
from functions.credentials.store import parse_credential

ENV = "SFNFLOW_CREDENTIALS_FILE"


def seed(store: CredentialStore, path: Path) -> list[str]:
    """Store every credential of the file at ``path``; returns their names."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialInvalid(f"{ENV}={path}: not a readable JSON file "
                                f"({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise CredentialInvalid(f"{ENV}={path}: expected {{name: {{type, fields...}}}}")
    for name, value in document.items():
        credential = parse_credential(value)
        try:
            store.create(str(name), credential)
        except CredentialExists:
            store.rotate(str(name), credential)
    return sorted(document)


def seed_from_env(config: Config) -> list[str]:
    """The file's credentials stored (none without ``SFNFLOW_CREDENTIALS_FILE``: then not
    even a client is built, a cloud's start stays as fast)."""
    path = os.environ.get(ENV)
    return seed(store_for(config), Path(path)) if path else []
