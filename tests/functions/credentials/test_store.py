"""The Secrets Manager store's contract beyond the API's loopback tests: where secrets live
per stage, Secrets Manager's failures as typed errors (never a ClientError), a foreign
value refused without echoing it."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from functions.config import Config
from functions.credentials import (
    CredentialError,
    CredentialInvalid,
    CredentialStore,
    CredentialUnavailable,
    Postgres,
)
from functions.credentials.names import secret_name, stage_of


def store(prefix: str = "sfnflow-dev") -> tuple[CredentialStore, Stubber]:
    client = boto3.client("secretsmanager", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    return CredentialStore(client, Config(table_prefix=prefix)), Stubber(client)


def test_the_secret_name_carries_the_stage() -> None:
    assert stage_of(Config(table_prefix="sfnflow-prod")) == "prod"
    assert stage_of(Config()) == "local"
    assert secret_name(Config(table_prefix="sfnflow-prod"), "db") == \
        "sfnflow/prod/credentials/db"
    with pytest.raises(CredentialInvalid, match="no '/'"):
        secret_name(Config(), "../other")


@pytest.mark.parametrize(("code", "error"), [
    ("ThrottlingException", CredentialUnavailable),
    ("InternalServiceError", CredentialUnavailable),
    ("AccessDeniedException", CredentialError),
    ("InvalidParameterException", CredentialInvalid),
])
def test_failures_are_typed(code: str, error: type[CredentialError]) -> None:
    credentials, stubber = store()
    stubber.add_client_error("get_secret_value", code, http_status_code=400)
    with stubber, pytest.raises(error) as failed:
        credentials.read("db")
    assert type(failed.value) is error and failed.value.retryable is (
        error is CredentialUnavailable)
    assert "'db'" in str(failed.value)


def test_a_value_that_is_no_credential_is_refused_without_its_text() -> None:
    credentials, stubber = store()
    stubber.add_response("get_secret_value", {"SecretString": '{"password": "hunter2-x"}'},
                         {"SecretId": "sfnflow/dev/credentials/db"})
    with stubber, pytest.raises(CredentialInvalid) as failed:
        credentials.read("db")
    assert "hunter2" not in str(failed.value)


def test_secret_fields_are_kept_out_of_the_public_ones() -> None:
    db = Postgres(host="h", database="d", user="u", password="pw-123456")
    assert db.public() == {"host": "h", "port": 5432, "database": "d", "user": "u",
                           "ssl": "prefer"}
    assert db.secrets() == ["pw-123456"]
    with pytest.raises(ValueError, match="at least 6"):
        Postgres(host="h", database="d", user="u", password="pw")


def test_every_public_part_fits_a_secrets_description() -> None:
    """Secrets Manager's descriptions hold 2,048 characters: the longest public fields of
    each type, JSON-encoded, fit."""
    import json

    from functions.credentials.types import MODELS

    for model in MODELS.values():
        bounds = {name: next((m.max_length for m in info.metadata
                              if getattr(m, "max_length", None)), None)
                  for name, info in model.model_fields.items()
                  if name not in ("type", *model.secret_fields)}
        assert all(bound is not None or model.model_fields[name].annotation is not str
                   for name, bound in bounds.items()), (model, bounds)
        longest = {name: "x" * bound for name, bound in bounds.items() if bound}
        assert len(json.dumps(longest, separators=(",", ":"))) <= 2048, model
