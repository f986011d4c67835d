"""What API Gateway is set up with, in one place for the stack (``cdk/sfnflow_cdk/api.py``),
the local server (``local/server.py``) and the handlers: binary media types and CORS.

- **Binary media types** ``*/*``: API Gateway hands every request body to the Lambda
  base64-encoded (``isBase64Encoded: true``), byte for byte. Without it a body that is not
  UTF-8 text is mangled, and a webhook's HMAC signature over the raw body can never match.
  The handlers decode (powertools' ``decoded_body``; ``functions.handlers.webhooks``).
  Responses are sent as text unless the handler marks them base64.
- **CORS**: browsers send a preflight ``OPTIONS`` without the ``x-api-key`` header, so
  every resource has an ``OPTIONS`` method without an API key that reaches the function
  that serves the resource, which answers it (powertools' ``CORSConfig``); every response
  carries ``Access-Control-Allow-Origin`` for the origins ``SFNFLOW_CORS_ORIGIN`` lists
  (comma-separated; ``*`` by default: the API authenticates with a key, not cookies).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from functions.config import Config

if TYPE_CHECKING:  # the resolver's module is large: the webhook handler never loads it
    from aws_lambda_powertools.event_handler import CORSConfig

BINARY_MEDIA_TYPES = ("*/*",)
# Request headers a browser client sends besides the CORS-safe ones (powertools adds
# Authorization, Content-Type, X-Amz-Date, X-Api-Key, X-Amz-Security-Token).
ALLOWED_HEADERS = ["Idempotency-Key", "X-Sfnflow-Signature", "Last-Event-ID"]
_BASE_HEADERS = ["Authorization", "Content-Type", "X-Amz-Date", "X-Api-Key",
                 "X-Amz-Security-Token"]
PREFLIGHT_MAX_AGE = 600  # seconds a browser may cache a preflight answer


def is_binary(content_type: str | None, binary_media_types: tuple[str, ...] =
              BINARY_MEDIA_TYPES) -> bool:
    """Whether API Gateway passes a body of this Content-Type base64-encoded."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return bool(media_type) and any(fnmatchcase(media_type, pattern)
                                    for pattern in binary_media_types)


def allowed_origins(config: Config) -> list[str]:
    return [origin.strip() for origin in config.cors_origin.split(",")
            if origin.strip()] or ["*"]


def cors_config(config: Config) -> CORSConfig:
    """For the API's resolver."""
    from aws_lambda_powertools.event_handler import CORSConfig

    first, *more = allowed_origins(config)
    return CORSConfig(allow_origin=first, extra_origins=more or None,
                      allow_headers=ALLOWED_HEADERS, max_age=PREFLIGHT_MAX_AGE)


def cors_headers(config: Config, origin: str | None, *, preflight: bool) -> dict[str, str]:
    """The CORS headers the resolver's ``CORSConfig`` would send in reply to a request from
    ``origin`` (none without one, or from an origin not allowed) — for the webhook
    handler, which has no resolver."""
    origins = allowed_origins(config)
    if not origin or (origin not in origins and "*" not in origins):
        return {}
    headers = {"Access-Control-Allow-Origin": origin if origin in origins else "*",
               "Access-Control-Allow-Headers": ",".join(sorted({*_BASE_HEADERS,
                                                                *ALLOWED_HEADERS})),
               "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE)}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "DELETE,GET,OPTIONS,PATCH,POST,PUT"
    return headers
