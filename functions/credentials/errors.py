"""Errors of credentials: one root under ``SfnflowError``, one small class per failure.

Credential errors raised while a node runs are ``NodeError``s too (typed for Retry/Catch:
a missing or mistyped credential is not retryable, an unreachable Secrets Manager is), so
the runner records and routes them as any node failure. Messages name the credential,
never its value.
"""

from __future__ import annotations

from functions.errors import NodeError


class CredentialError(NodeError):
    error_type = "Sfnflow.CredentialError"


class CredentialInvalid(CredentialError):
    """A name or value that breaks the rules (the API answers 400)."""

    error_type = "Sfnflow.CredentialInvalid"


class CredentialNotFound(CredentialError):
    error_type = "Sfnflow.CredentialNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"credential {name!r} does not exist")
        self.name = name


class CredentialExists(CredentialError):
    error_type = "Sfnflow.CredentialExists"

    def __init__(self, name: str) -> None:
        super().__init__(f"credential {name!r} exists already: PUT a new value to rotate it")
        self.name = name


class CredentialTypeMismatch(CredentialError):
    error_type = "Sfnflow.CredentialTypeMismatch"


class CredentialUnavailable(CredentialError):
    """Secrets Manager could not answer (throttled, unreachable, denied): retryable."""

    error_type = "Sfnflow.CredentialUnavailable"
    retryable = True
