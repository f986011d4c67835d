"""Named credentials (issue 16): stored in AWS Secrets Manager, written through the API
(``/credentials``, values write-only), read by nodes by name, redacted from everything the
platform writes.

Reading a credential in a node (the interface other node types use)::

    from functions.credentials import Postgres, node_credential, resolve

    credential = node_credential(ctx, Postgres)   # the node's ``credentials: {name}``
    credential = resolve("warehouse", Postgres)   # or by name
    credential.password                           # typed fields (functions.credentials.types)

Both raise ``CredentialError`` subclasses (``NodeError``s: the runner records and routes
them): ``CredentialNotFound``, ``CredentialTypeMismatch``, ``CredentialUnavailable``
(retryable). A node type that takes a credential adds its accepted types to
``compiler.credentials.NODE_CREDENTIALS`` (then ``credentials: {name}`` validates on it).

Resolving teaches the value to the process's redactor (``functions.credentials.redact``);
the node runner scrubs a node's outputs, error and logs with it before anything is
recorded, so a node never scrubs by itself. Values are cached ``TTL_SECONDS`` per process.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, overload

from functions.config import Config
from functions.credentials.errors import (
    CredentialError,
    CredentialExists,
    CredentialInvalid,
    CredentialNotFound,
    CredentialTypeMismatch,
    CredentialUnavailable,
)
from functions.credentials.redact import REDACTOR, Redactor
from functions.credentials.resolver import TTL_SECONDS, CredentialResolver
from functions.credentials.store import CredentialStore
from functions.credentials.types import (
    AwsAssumeRole,
    Credential,
    HttpBasicAuth,
    HttpBearerAuth,
    HttpHeaderAuth,
    HttpQueryAuth,
    OpenAiApi,
    Postgres,
)
from functions.errors import ParameterError

_C = TypeVar("_C")

NODE_CREDENTIALS_KEY = "credentials"
"""Where the runner puts the node's ``credentials`` (``{"name", "type"}``) in
``NodeContext.extras``."""


def store_for(config: Config) -> CredentialStore:
    import boto3

    return CredentialStore(boto3.client("secretsmanager", region_name=config.region), config)


@cache
def default_resolver() -> CredentialResolver:
    """The process's resolver (Secrets Manager of the configured region)."""
    return CredentialResolver(lambda: store_for(Config.from_env()))


@overload
def resolve(name: str, expect: None = None) -> Credential: ...


@overload
def resolve(name: str, expect: type[_C] | tuple[type[_C], ...]) -> _C: ...


def resolve(name: str, expect: Any = None) -> Any:
    """Credential ``name`` (of the type ``expect`` when given)."""
    return default_resolver().resolve(name, expect)


def node_credential(ctx: Any, expect: Any = None) -> Any:
    """The credential the node names (``credentials: {name}``); a node without one is a
    ``ParameterError`` naming the node."""
    ref = (getattr(ctx, "extras", None) or {}).get(NODE_CREDENTIALS_KEY)
    if not isinstance(ref, dict) or not ref.get("name"):
        raise ParameterError(f"node {getattr(ctx, 'node_name', '?')!r} needs a credential: "
                             "set credentials: {name: ...} on the node")
    return resolve(str(ref["name"]), expect)


def reset() -> None:
    """Forget the process's resolver, cached values and learnt secrets (a new embedded
    cloud is a new account)."""
    default_resolver.cache_clear()
    REDACTOR.forget_all()


__all__ = [
    "NODE_CREDENTIALS_KEY", "REDACTOR", "TTL_SECONDS", "AwsAssumeRole", "Credential",
    "CredentialError", "CredentialExists", "CredentialInvalid", "CredentialNotFound",
    "CredentialResolver", "CredentialStore", "CredentialTypeMismatch",
    "CredentialUnavailable", "HttpBasicAuth", "HttpBearerAuth",
    "HttpHeaderAuth", "HttpQueryAuth", "OpenAiApi", "Postgres", "Redactor", "node_credential",
    "reset", "resolve", "store_for",
]
