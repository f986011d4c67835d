"""One pydantic model per credential type: which fields it has, which of them are secret.

A credential is stored as one Secrets Manager secret whose value is the model's JSON (every
field); the fields that are not secret (a header's name, a host, a role ARN) are also kept in
the secret's description so ``GET /credentials/{name}`` can show them without reading the
value. Their lengths are bounded so that description stays within Secrets Manager's 2,048
characters. ``secrets()`` lists the strings the redactor must never let out
(``functions.credentials.redact``); a secret shorter than ``MIN_SECRET_CHARS`` is refused,
since scrubbing a one- or two-letter string from every record would be no protection and
would mangle everything else.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MIN_SECRET_CHARS = 6

Secret = Annotated[str, Field(min_length=MIN_SECRET_CHARS, max_length=8192)]


class _Credential(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_fields: ClassVar[tuple[str, ...]]

    def secrets(self) -> list[str]:
        """Every string that would reveal the credential: the secret fields, and the encoded
        forms a request carries them in (``redact`` adds URL and JSON encodings)."""
        values = [getattr(self, name) for name in self.secret_fields]
        return [v for v in values if isinstance(v, str) and v]

    def public(self) -> dict[str, Any]:
        """The fields that are not secret (shown by the API)."""
        return self.model_dump(exclude={"type", *self.secret_fields}, exclude_none=True)


class HttpHeaderAuth(_Credential):
    """A header sent with every request (``X-Api-Key: <value>``)."""

    type: Literal["httpHeaderAuth"] = "httpHeaderAuth"
    name: str = Field(min_length=1, max_length=256, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    value: Secret
    secret_fields: ClassVar[tuple[str, ...]] = ("value",)


class HttpBearerAuth(_Credential):
    """``Authorization: Bearer <token>``."""

    type: Literal["httpBearerAuth"] = "httpBearerAuth"
    token: Secret
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)


class HttpBasicAuth(_Credential):
    """``Authorization: Basic base64(user:password)``: the encoded pair is secret too."""

    type: Literal["httpBasicAuth"] = "httpBasicAuth"
    user: str = Field(min_length=1, max_length=256, pattern=r"^[^:]*$")
    password: Secret
    secret_fields: ClassVar[tuple[str, ...]] = ("password",)

    def secrets(self) -> list[str]:
        pair = f"{self.user}:{self.password}".encode()
        return [*super().secrets(), base64.b64encode(pair).decode()]


class HttpQueryAuth(_Credential):
    """A query parameter sent with every request (``?api_key=<value>``)."""

    type: Literal["httpQueryAuth"] = "httpQueryAuth"
    name: str = Field(min_length=1, max_length=256)
    value: Secret
    secret_fields: ClassVar[tuple[str, ...]] = ("value",)


class OpenAiApi(_Credential):
    """An OpenAI-compatible Chat Completions endpoint: its API key and base URL."""

    type: Literal["openAiApi"] = "openAiApi"
    apiKey: Secret
    baseUrl: str = Field("https://api.openai.com/v1", min_length=1, max_length=1024)
    secret_fields: ClassVar[tuple[str, ...]] = ("apiKey",)


class Postgres(_Credential):
    """A PostgreSQL connection (``ssl``: libpq's sslmode)."""

    type: Literal["postgres"] = "postgres"
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(5432, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=63)
    user: str = Field(min_length=1, max_length=63)
    password: Secret
    ssl: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = \
        "prefer"
    secret_fields: ClassVar[tuple[str, ...]] = ("password",)


class AwsAssumeRole(_Credential):
    """A role to assume (STS AssumeRole); the external ID is the secret a third party
    shares with us (it may be absent: then nothing here is secret)."""

    type: Literal["awsAssumeRole"] = "awsAssumeRole"
    roleArn: str = Field(max_length=1024,
                         pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")
    externalId: Annotated[str, Field(min_length=MIN_SECRET_CHARS, max_length=1224,
                                     pattern=r"^[\w+=,.@:/-]+$")] | None = None
    secret_fields: ClassVar[tuple[str, ...]] = ("externalId",)


Credential = Annotated[HttpHeaderAuth | HttpBearerAuth | HttpBasicAuth | HttpQueryAuth
                       | OpenAiApi | Postgres | AwsAssumeRole, Field(discriminator="type")]
"""Any credential, told apart by its ``type``."""

CREDENTIAL_ADAPTER: TypeAdapter[Credential] = TypeAdapter(Credential)

MODELS: dict[str, type[_Credential]] = {
    model.model_fields["type"].default: model
    for model in (HttpHeaderAuth, HttpBearerAuth, HttpBasicAuth, HttpQueryAuth, OpenAiApi,
                  Postgres, AwsAssumeRole)
}
"""Credential type name -> its model (the names are ``compiler.credentials``'s)."""
