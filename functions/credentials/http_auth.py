"""What an HTTP auth credential adds to a request: headers and query parameters, applied
the same way by every node that calls HTTP (sfnflow's httpRequest, HTTP tools).

The credential's header or parameter wins over one of the same name in the node's
parameters, as n8n's generic credential types do: the credential is the authority on
authentication.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from functions.credentials.types import HttpBasicAuth, HttpBearerAuth, HttpHeaderAuth, HttpQueryAuth

HTTP_AUTH = (HttpHeaderAuth, HttpBearerAuth, HttpBasicAuth, HttpQueryAuth)
"""The credential models an HTTP request can authenticate with."""


@dataclass(frozen=True)
class RequestAuth:
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def apply(self, headers: dict[str, Any] | None,
              query: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request's headers and query with the credential's added (header names
        compared without case, as HTTP does)."""
        merged = {k: v for k, v in (headers or {}).items()
                  if k.lower() not in {h.lower() for h in self.headers}}
        return merged | self.headers, dict(query or {}) | self.query


def request_auth(credential: Any) -> RequestAuth:
    if isinstance(credential, HttpHeaderAuth):
        return RequestAuth(headers={credential.name: credential.value})
    if isinstance(credential, HttpBearerAuth):
        return RequestAuth(headers={"Authorization": f"Bearer {credential.token}"})
    if isinstance(credential, HttpBasicAuth):
        pair = f"{credential.user}:{credential.password}".encode()
        return RequestAuth(headers={"Authorization":
                                    f"Basic {base64.b64encode(pair).decode()}"})
    if isinstance(credential, HttpQueryAuth):
        return RequestAuth(query={credential.name: credential.value})
    raise TypeError(f"not an HTTP auth credential: {type(credential).__name__}")
