"""Routes under /credentials: create, rotate, list, describe and delete named credentials
(``functions.credentials``). Values are write-only: no answer carries one, and errors about
a value name its fields, never their contents.

- ``POST /credentials`` ``{"name", "type", "data": {...}}`` -> 201 with the description
- ``PUT /credentials/{name}`` ``{"data": {...}}`` (``type`` optional, must be the same) ->
  200: a new value (a new secret version) of the same type
- ``GET /credentials`` -> ``{"items": [...]}``; ``GET /credentials/{name}`` -> one
- ``DELETE /credentials/{name}`` -> 204

A description is ``{name, type, fields, createdAt, updatedAt}``, ``fields`` being the
credential's non-secret fields (a header's name, a host, a base URL).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.config import Config
from functions.credentials import (
    CredentialError,
    CredentialExists,
    CredentialInvalid,
    CredentialNotFound,
    CredentialStore,
    CredentialTypeMismatch,
    CredentialUnavailable,
    default_resolver,
    store_for,
)
from functions.credentials.names import check_name
from functions.credentials.store import parse_credential
from functions.credentials.types import MODELS

router = Router()


@cache
def credential_store() -> CredentialStore:
    return store_for(Config.from_env())


def _body() -> dict[str, Any]:
    body = router.current_event.json_body
    if not isinstance(body, dict):
        raise CredentialInvalid("send a JSON object: {\"name\", \"type\", \"data\": {...}}")
    unknown = set(body) - {"name", "type", "data"}
    if unknown:
        raise CredentialInvalid(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(body.get("data"), dict):
        raise CredentialInvalid("data: the credential's fields, as a JSON object")
    return body


def _type(value: Any) -> str:
    if not isinstance(value, str) or value not in MODELS:
        raise CredentialInvalid(f"type: one of {', '.join(MODELS)}")
    return value


@router.post("/credentials", summary="Create a named credential (its value is write-only)")
def create_credential() -> Response[str]:
    body = _body()
    name = body.get("name")
    if not isinstance(name, str):
        raise CredentialInvalid("name: a string")
    check_name(name)
    credential = parse_credential(body["data"], type_name=_type(body.get("type")))
    described = credential_store().create(name, credential)
    default_resolver().forget(name)
    return json_response(201, described)


@router.put("/credentials/<name>", summary="Rotate a credential: a new value, same type")
def rotate_credential(name: str) -> Response[str]:
    check_name(name)
    body = _body()
    if body.get("name") not in (None, name):
        raise CredentialInvalid("name: a credential cannot be renamed")
    store = credential_store()
    type_name = _type(body["type"]) if body.get("type") is not None \
        else store.describe(name)["type"]
    described = store.rotate(name, parse_credential(body["data"], type_name=type_name))
    default_resolver().forget(name)
    return json_response(200, described)


@router.get("/credentials", summary="Every credential: names, types, non-secret fields")
def list_credentials() -> Response[str]:
    return json_response(200, {"items": credential_store().list()})


@router.get("/credentials/<name>", summary="One credential, without its value")
def describe_credential(name: str) -> Response[str]:
    check_name(name)
    return json_response(200, credential_store().describe(name))


@router.delete("/credentials/<name>", summary="Delete a credential (at once, no recovery)")
def delete_credential(name: str) -> Response[str]:
    check_name(name)
    credential_store().delete(name)
    default_resolver().forget(name)
    return Response(status_code=204, body="")


_STATUS: tuple[tuple[type[CredentialError], int, str], ...] = (
    (CredentialInvalid, 400, "BadRequest"),
    (CredentialTypeMismatch, 400, "BadRequest"),
    (CredentialNotFound, 404, "NotFound"),
    (CredentialExists, 409, "Conflict"),
    (CredentialUnavailable, 503, "ServiceUnavailable"),
)


@router.exception_handler(CredentialError)
def _credential_error(exc: CredentialError) -> Response[str]:
    for kind, status, error_type in _STATUS:
        if isinstance(exc, kind):
            return error_response(status, error_type, str(exc))
    return error_response(502, "CredentialStoreError", str(exc))
