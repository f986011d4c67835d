"""The redactor: every form a resolved secret travels in is scrubbed from values, errors and
log records; without a secret known, nothing is touched (not even copied)."""

from __future__ import annotations

import base64
import io
import logging
from urllib.parse import quote, quote_plus

import pytest

from functions.credentials.redact import MASK, RedactingFilter, Redactor
from functions.credentials.types import HttpBasicAuth
from functions.errors import HttpClientError, NodeError

SECRET = "s3cr/t +&\"v@lue"


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor()
    redactor.learn([SECRET])
    return redactor


@pytest.mark.parametrize("form", [SECRET, quote(SECRET, safe=""), quote(SECRET),
                                  quote_plus(SECRET), 's3cr/t +&\\"v@lue'])
def test_every_encoding_is_scrubbed(redactor: Redactor, form: str) -> None:
    assert redactor.scrub(f"before {form} after") == f"before {MASK} after"


def test_values_are_scrubbed_deep_keys_included(redactor: Redactor) -> None:
    value = {"a": [SECRET, {"b": (1, f"x{SECRET}")}], SECRET: None, "n": 3}
    assert redactor.scrub(value) == {"a": [MASK, {"b": (1, f"x{MASK}")}], MASK: None,
                                     "n": 3}


def test_without_secrets_nothing_is_copied() -> None:
    value = {"a": [1]}
    assert Redactor().scrub(value) is value


def test_the_basic_pair_is_a_secret_too() -> None:
    credential = HttpBasicAuth(user="ann", password="pw-123456")
    redactor = Redactor()
    redactor.learn(credential.secrets())
    pair = base64.b64encode(b"ann:pw-123456").decode()
    assert redactor.scrub(f"Authorization: Basic {pair}") == f"Authorization: Basic {MASK}"


def test_an_error_keeps_its_type_and_loses_its_cause(redactor: Redactor) -> None:
    try:
        try:
            raise ValueError(SECRET)
        except ValueError as inner:
            raise HttpClientError(f"GET /x returned 401: {SECRET}") from inner
    except HttpClientError as exc:
        clean = redactor.scrub_error(exc)
    assert type(clean) is HttpClientError and clean.error_type == "Sfnflow.HttpClientError"
    assert str(clean) == f"GET /x returned 401: {MASK}"
    assert clean.__cause__ is None and clean.__suppress_context__
    other = redactor.scrub_error(KeyError(SECRET))
    assert isinstance(other, NodeError) and SECRET not in str(other)
    harmless = NodeError("nothing secret")
    assert redactor.scrub_error(harmless) is harmless


def test_log_records_are_scrubbed_message_arguments_extras_and_traceback(
        redactor: Redactor) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(detail)s"))
    handler.addFilter(RedactingFilter(redactor))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"boom {SECRET}")
        except RuntimeError:
            logger.error("got %s", SECRET, extra={"detail": {"k": SECRET}}, exc_info=True)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text and MASK in text and "RuntimeError: boom" in text
