"""The REST API: API key on management routes, public webhooks, logs, validation, errors."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from .conftest import Built

MANAGEMENT = {("/workflows", "ANY"), ("/workflows/{proxy+}", "ANY"), ("/executions", "ANY"),
              ("/executions/{execution_id}", "ANY"),
              ("/executions/{execution_id}/{proxy+}", "ANY"), ("/openapi.json", "GET")}
WEBHOOK = ("/webhook/{proxy+}", "ANY")
RESUME = ("/executions/{execution_id}/resume/{wait_id}", "POST")


def _methods(built: Built) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.resource.path, m.http_method): built.resources("AWS::ApiGateway::Method")[
        built.stack.get_logical_id(m.node.default_child)]["Properties"]
            for m in built.stack.api.api.methods}


def _target(built: Built, props: dict[str, Any]) -> str:
    return json.dumps(props["Integration"]["Uri"])


def test_routes(built: Built) -> None:
    assert set(_methods(built)) == MANAGEMENT | {WEBHOOK, RESUME}


def test_signed_resume_urls_are_public_and_reach_the_api_function(built: Built) -> None:
    props = _methods(built)[RESUME]
    assert props.get("ApiKeyRequired", False) is False
    assert props["AuthorizationType"] == "NONE"
    api_fn = built.stack.get_logical_id(built.stack.functions.functions["api"].node.default_child)
    assert api_fn in _target(built, props)


def test_management_routes_need_an_api_key_and_reach_the_api_function(built: Built) -> None:
    api_fn = built.stack.get_logical_id(built.stack.functions.functions["api"].node.default_child)
    for route, props in _methods(built).items():
        if route in MANAGEMENT:
            assert props["ApiKeyRequired"] is True, route
            assert api_fn in _target(built, props)
            assert props["Integration"]["Type"] == "AWS_PROXY"


def test_webhooks_are_public_and_reach_the_webhooks_function(built: Built) -> None:
    props = _methods(built)[WEBHOOK]
    assert props.get("ApiKeyRequired", False) is False
    assert props["AuthorizationType"] == "NONE"
    webhooks = built.stack.get_logical_id(
        built.stack.functions.functions["webhooks"].node.default_child)
    assert webhooks in _target(built, props)


def test_every_method_is_validated(built: Built) -> None:
    [validator_id] = built.resources("AWS::ApiGateway::RequestValidator")
    validator = built.resources("AWS::ApiGateway::RequestValidator")[validator_id]["Properties"]
    assert validator["ValidateRequestBody"] and validator["ValidateRequestParameters"]
    for props in _methods(built).values():
        assert props["RequestValidatorId"] == {"Ref": validator_id}


def test_usage_plan_throttles_the_key(template: Any) -> None:
    template.has_resource_properties("AWS::ApiGateway::UsagePlan", {
        "Throttle": {"RateLimit": Match.any_value(), "BurstLimit": Match.any_value()},
        "ApiStages": Match.any_value(),
    })
    template.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    # the one key is in two usage plans: this API's and the live-progress WebSocket stage's
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 2)


def test_stage_has_access_logs_tracing_and_throttling(template: Any) -> None:
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "dev",
        "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
        "TracingEnabled": True,
        "MethodSettings": Match.array_with([Match.object_like({
            "LoggingLevel": "ERROR", "ThrottlingRateLimit": Match.any_value()})]),
    })


def test_gateway_errors_use_the_api_error_shape(built: Built) -> None:
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in built.resources("AWS::ApiGateway::GatewayResponse").values()}
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED",
            "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for response_type, props in responses.items():
        body = props["ResponseTemplates"]["application/json"]
        # what API Gateway renders: $context variables become JSON strings
        rendered = json.loads(body.replace("$context.error.messageString", '"msg"')
                              .replace("$context.requestId", "req-1"))
        assert set(rendered["error"]) == {"type", "message", "details"}, response_type
    assert '"TooManyRequests"' in responses["THROTTLED"]["ResponseTemplates"]["application/json"]
