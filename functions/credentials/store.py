"""Credentials in AWS Secrets Manager: one secret per credential, written by the API, read
by the node runner.

Secret ``sfnflow/<stage>/credentials/<name>`` (``functions.credentials.names``) holds the
credential's JSON; its tags say what it is (``sfnflow:type``, ``sfnflow:credential``) and its
description holds the fields that are not secret (JSON), so describing and listing never
read a value. Rotating puts a new value (a new version, AWSCURRENT moves to it); the type
of a credential never changes (delete and create instead). Deleting is immediate
(``ForceDeleteWithoutRecovery``): a deleted name can be created again at once, as a user of
n8n's credential list expects; Secrets Manager's recovery window would hold the name for
7-30 days.

``ClientError`` never leaves this module: each is translated into a ``CredentialError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from functions.config import Config
from functions.credentials.errors import (
    CredentialError,
    CredentialExists,
    CredentialInvalid,
    CredentialNotFound,
    CredentialTypeMismatch,
    CredentialUnavailable,
)
from functions.credentials.names import secret_name, secret_prefix, stage_of
from functions.credentials.types import CREDENTIAL_ADAPTER, MODELS, Credential

TYPE_TAG = "sfnflow:type"
NAME_TAG = "sfnflow:credential"
_UNAVAILABLE = frozenset({"ThrottlingException", "InternalServiceError",
                          "RequestTimeout", "ServiceUnavailable"})


def parse_credential(value: Any, *, type_name: str | None = None) -> Credential:
    """``value`` (a dict, ``type`` inside or given) as its credential model; a bad one is
    ``CredentialInvalid`` naming the fields, never echoing their values."""
    if isinstance(value, dict) and type_name is not None:
        value = {"type": type_name, **value}
    try:
        return CREDENTIAL_ADAPTER.validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                             for e in exc.errors(include_input=False, include_url=False))
        raise CredentialInvalid(f"invalid credential value: {problems}") from None


@contextmanager
def _translated(name: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise CredentialNotFound(name) from None
        if code == "ResourceExistsException":
            raise CredentialExists(name) from None
        if code in ("ValidationException", "InvalidParameterException"):
            raise CredentialInvalid(
                f"Secrets Manager refused credential {name!r} as invalid: {code}") from None
        if code in _UNAVAILABLE:
            raise CredentialUnavailable(
                f"Secrets Manager did not answer for credential {name!r}: {code}") from None
        raise CredentialError(
            f"Secrets Manager refused credential {name!r}: {code}") from None
    except BotoCoreError as exc:
        raise CredentialUnavailable(
            f"Secrets Manager unreachable for credential {name!r}: "
            f"{type(exc).__name__}") from None


class CredentialStore:
    """The stage's credentials; ``client`` is a boto3 Secrets Manager client."""

    def __init__(self, client: Any, config: Config) -> None:
        self.client = client
        self.config = config

    @property
    def prefix(self) -> str:
        return secret_prefix(stage_of(self.config))

    def create(self, name: str, credential: Credential) -> dict[str, Any]:
        with _translated(name):
            self.client.create_secret(
                Name=secret_name(self.config, name),
                SecretString=credential.model_dump_json(),
                Description=json.dumps(credential.public(), separators=(",", ":")),
                Tags=[{"Key": TYPE_TAG, "Value": credential.type},
                      {"Key": NAME_TAG, "Value": name}])
        return self.describe(name)

    def rotate(self, name: str, credential: Credential) -> dict[str, Any]:
        """A new value (a new version) of the same type."""
        current = self.describe(name)
        if current["type"] != credential.type:
            raise CredentialTypeMismatch(
                f"credential {name!r} is {current['type']}, not {credential.type}: a "
                "credential keeps its type (delete it and create it again)")
        with _translated(name):
            self.client.put_secret_value(SecretId=secret_name(self.config, name),
                                         SecretString=credential.model_dump_json())
            if current["fields"] != credential.public():
                self.client.update_secret(
                    SecretId=secret_name(self.config, name),
                    Description=json.dumps(credential.public(), separators=(",", ":")))
        return self.describe(name)

    def describe(self, name: str) -> dict[str, Any]:
        with _translated(name):
            described = self.client.describe_secret(SecretId=secret_name(self.config, name))
        return _summary(name, described)

    def list(self) -> list[dict[str, Any]]:
        """Every credential of the stage, by name (never a value)."""
        found: list[dict[str, Any]] = []
        prefix = self.prefix
        with _translated("*"):
            pages = self.client.get_paginator("list_secrets").paginate(
                Filters=[{"Key": "name", "Values": [prefix]}])
            for page in pages:
                for entry in page.get("SecretList", []):
                    secret = str(entry.get("Name", ""))
                    if secret.startswith(prefix) and "/" not in secret[len(prefix):]:
                        found.append(_summary(secret[len(prefix):], entry))
        return sorted(found, key=lambda c: c["name"])

    def delete(self, name: str) -> None:
        with _translated(name):
            self.client.describe_secret(SecretId=secret_name(self.config, name))
            self.client.delete_secret(SecretId=secret_name(self.config, name),
                                      ForceDeleteWithoutRecovery=True)

    def exists(self, name: str) -> bool:
        try:
            self.describe(name)
        except CredentialNotFound:
            return False
        return True

    def read(self, name: str) -> Credential:
        """The credential's current value: the node runner's only call."""
        with _translated(name):
            answer = self.client.get_secret_value(SecretId=secret_name(self.config, name))
        try:
            return parse_credential(json.loads(answer["SecretString"]))
        except (ValueError, KeyError, CredentialInvalid):
            raise CredentialInvalid(
                f"credential {name!r} holds a value that is not a credential "
                "(written outside sfnflow?)") from None


def _summary(name: str, described: dict[str, Any]) -> dict[str, Any]:
    tags = {tag.get("Key"): tag.get("Value") for tag in described.get("Tags") or []}
    try:
        fields = json.loads(described.get("Description") or "{}")
    except ValueError:
        fields = {}
    summary: dict[str, Any] = {"name": name, "type": tags.get(TYPE_TAG),
                               "fields": fields if isinstance(fields, dict) else {}}
    for key, field in (("CreatedDate", "createdAt"), ("LastChangedDate", "updatedAt")):
        if described.get(key) is not None:
            summary[field] = described[key].isoformat()
    return summary


__all__ = ["MODELS", "CredentialStore", "parse_credential"]
