"""API Gateway answers the requests it refuses itself (a body over 10 MB: REQUEST_TOO_LARGE,
413; a Lambda that answers after the 29 s integration timeout: INTEGRATION_TIMEOUT, 504)
with the same error types the local gateway (``local.server``) uses, so a client sees one
error shape locally and deployed."""

from __future__ import annotations

import json

from tests.cdk.conftest import Built


def test_too_large_and_timed_out_requests_get_the_local_error_types(built: Built) -> None:
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in built.resources("AWS::ApiGateway::GatewayResponse").values()}
    for response_type, error_type in [("REQUEST_TOO_LARGE", "RequestTooLarge"),
                                      ("INTEGRATION_TIMEOUT", "IntegrationTimeout")]:
        body = responses[response_type]["ResponseTemplates"]["application/json"]
        rendered = json.loads(body.replace("$context.error.messageString", '"msg"')
                              .replace("$context.requestId", "req-1"))
        assert rendered["error"]["type"] == error_type
