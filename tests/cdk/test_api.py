"""The REST API: API key on management routes, public webhooks, logs, validation, errors."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk.assertions import Match

from .conftest import Built

MANAGEMENT = {("/workflows", "ANY"), ("/workflows/{proxy+}", "ANY"), ("/executions", "ANY"),
              ("/executions/{execution_id}", "ANY"),
              ("/executions/{execution_id}/{proxy+}", "ANY"), ("/openapi.json", "GET"),
              ("/admin", "ANY"), ("/admin/{proxy+}", "ANY"), ("/stream-tokens", "ANY"),
              ("/stream-tokens/{proxy+}", "ANY"), ("/costs", "ANY"), ("/costs/{proxy+}", "ANY"),
              ("/stats", "ANY"), ("/stats/{proxy+}", "ANY"), ("/credentials", "ANY"),
              ("/credentials/{proxy+}", "ANY")}
WEBHOOK = ("/webhook/{proxy+}", "ANY")
RESUME = ("/executions/{execution_id}/resume/{wait_id}", "POST")
VIEWER = {("/viewer", "GET"), ("/viewer/{proxy+}", "GET")}  # public static files


def _methods(built: Built) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.resource.path, m.http_method): built.resources("AWS::ApiGateway::Method")[
        built.stack.get_logical_id(m.node.default_child)]["Properties"]
            for m in built.stack.api.api.methods}


def _target(built: Built, props: dict[str, Any]) -> str:
    return json.dumps(props["Integration"]["Uri"])


def test_routes(built: Built) -> None:
    routes = MANAGEMENT | VIEWER | {WEBHOOK, RESUME}
    preflights = {(path, "OPTIONS") for path, _ in routes}
    assert set(_methods(built)) == routes | preflights


def _served_routes() -> list[tuple[str, str]]:
    """(method, path with sample ids) of every route the API function's router serves."""
    from functions.api.app import app

    routes = [*app._static_routes, *app._dynamic_routes]
    assert routes, "the resolver's route table moved: update this helper"
    return [(route.method, re.sub(r"<[^>]+>", "x1", route.path)) for route in routes]


def _gateway_resource(paths: set[str], path: str) -> str | None:
    """The resource API Gateway picks for ``path``: every segment matched, a literal
    preferred over ``{param}``, which is preferred over a greedy ``{proxy+}``."""
    def rank(resource: str) -> tuple[int, ...] | None:
        parts, wanted = resource.strip("/").split("/"), path.strip("/").split("/")
        score: list[int] = []
        for index, part in enumerate(parts):
            if part.endswith("+}"):
                return (*score, 0) if len(wanted) > index else None
            if index >= len(wanted):
                return None
            if part.startswith("{"):
                score.append(1)
            elif part == wanted[index]:
                score.append(2)
            else:
                return None
        return tuple(score) if len(parts) == len(wanted) else None

    ranked = [(score, resource) for resource in paths if (score := rank(resource)) is not None]
    return max(ranked)[1] if ranked else None


def test_every_route_the_api_function_serves_has_a_gateway_route(built: Built) -> None:
    """Derived from the handler's router, not a hand list: a route added to the function
    and not to the stack (``/admin/prune`` once) answers 403 Missing Authentication Token."""
    methods = _methods(built)
    paths = {path for path, _ in methods}
    api_fn = built.stack.get_logical_id(built.stack.functions.functions["api"].node.default_child)
    served = _served_routes()
    assert ("POST", "/admin/prune") in served and ("POST", "/stream-tokens") in served
    for method, path in served:
        resource = _gateway_resource(paths, path)
        assert resource is not None, (method, path)
        props = methods.get((resource, method)) or methods.get((resource, "ANY"))
        assert props is not None, (method, path, resource)
        assert api_fn in _target(built, props), (method, path)
        public = (resource, method) == RESUME or (resource, method) in VIEWER
        assert props.get("ApiKeyRequired", False) is not public, (method, path)
        # and a browser may ask first (CORS preflight, no key)
        preflight = methods[(resource, "OPTIONS")]
        assert preflight.get("ApiKeyRequired", False) is False
        assert api_fn in _target(built, preflight)


def test_request_bodies_reach_the_functions_byte_for_byte(built: Built) -> None:
    """Binary media types ``*/*``: every body arrives base64-encoded, so a webhook's HMAC
    is computed over the bytes the sender signed."""
    (api,) = built.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == ["*/*"]


def test_preflights_need_no_key_and_reach_the_function_behind_the_resource(
        built: Built) -> None:
    webhooks = built.stack.get_logical_id(
        built.stack.functions.functions["webhooks"].node.default_child)
    methods = _methods(built)
    assert webhooks in _target(built, methods[(WEBHOOK[0], "OPTIONS")])
    for (path, method), props in methods.items():
        if method == "OPTIONS":
            assert props.get("ApiKeyRequired", False) is False, path
            assert props["AuthorizationType"] == "NONE", path


def test_gateway_errors_carry_the_cors_origin(built: Built) -> None:
    for response in built.resources("AWS::ApiGateway::GatewayResponse").values():
        headers = response["Properties"]["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


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
    # the one key is in this API's usage plan only (live progress takes stream tokens)
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)


def test_stage_has_access_logs_tracing_and_throttling(template: Any) -> None:
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "dev",
        "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
        "TracingEnabled": True,
        "MethodSettings": Match.array_with([Match.object_like({
            "LoggingLevel": "ERROR", "ThrottlingRateLimit": Match.any_value()})]),
    })


def test_an_unknown_route_is_a_404_as_sfnflow_serve_answers_it(built: Built) -> None:
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in built.resources("AWS::ApiGateway::GatewayResponse").values()}
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert '"NotFound"' in missing["ResponseTemplates"]["application/json"]


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
