"""Live progress: the WebSocket API, the progress table's stream and the publisher."""

from __future__ import annotations

import json
import re
from typing import Any

from functions.store.models import ALL_MODELS, TABLE_SUFFIXES, ProgressEventModel

from .conftest import Built, actions_of, policy_statements


def _one(built: Built, type_: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = built.resources(type_).items()
    return logical_id, resource["Properties"]


def _logical_id(built: Built, construct: Any) -> str:
    return str(built.stack.get_logical_id(construct.node.default_child))


def _function_id(built: Built, role: str) -> str:
    return _logical_id(built, built.stack.functions.functions[role])


def _routes(built: Built) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["RouteKey"]: r["Properties"]
            for r in built.resources("AWS::ApiGatewayV2::Route").values()}


def test_a_websocket_api_without_api_keys(built: Built) -> None:
    """Browsers cannot send x-api-key on a WebSocket: no key selection, no usage plan."""
    api_id, api = _one(built, "AWS::ApiGatewayV2::Api")
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["Name"] == "sfnflow-dev-progress"
    assert "ApiKeySelectionExpression" not in api
    assert api_id == _logical_id(built, built.stack.streams.api)
    assert not [p for p in built.resources("AWS::ApiGateway::UsagePlan").values()
                if p["Properties"]["ApiStages"][0]["ApiId"] == {"Ref": api_id}]


def test_connect_takes_a_token_and_both_routes_reach_the_connections_function(
        built: Built) -> None:
    routes = _routes(built)
    assert set(routes) == {"$connect", "$disconnect"}  # clients only listen: no $default
    # No key and no authorizer: the connections function verifies ?token= itself.
    assert routes["$connect"].get("ApiKeyRequired", False) is False
    assert routes["$connect"].get("AuthorizationType", "NONE") == "NONE"
    function_id = _function_id(built, "stream-connections")
    integrations = built.resources("AWS::ApiGatewayV2::Integration")
    for route in routes.values():
        integration = route["Target"]["Fn::Join"][1][1]["Ref"]
        props = integrations[integration]["Properties"]
        assert props["IntegrationType"] == "AWS_PROXY"
        assert function_id in json.dumps(props["IntegrationUri"])


def test_tokens_are_signed_by_a_kms_hmac_key_the_api_signs_with_and_connect_verifies_with(
        built: Built) -> None:
    (key_id,) = [key_id for key_id, key in built.resources("AWS::KMS::Key").items()
                 if key["Properties"].get("KeySpec") == "HMAC_256"]  # beside the alarms'
    key = built.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["KeyUsage"] == "GENERATE_VERIFY_MAC"
    for role, action, other in (("Api", "kms:GenerateMac", "kms:VerifyMac"),
                                ("StreamConnections", "kms:VerifyMac", "kms:GenerateMac")):
        statements = [s for s in policy_statements(built, f"Functions/{role}Role")
                      if key_id in json.dumps(s["Resource"])]
        assert actions_of(statements) == {action}, role
        assert other not in actions_of(policy_statements(built, f"Functions/{role}Role"))
    functions = built.resources("AWS::Lambda::Function")
    for role in ("api", "stream-connections"):
        env = functions[_function_id(built, role)]["Properties"]["Environment"]["Variables"]
        assert env["SFNFLOW_STREAM_TOKEN_KEY_ARN"] == {"Fn::GetAtt": [key_id, "Arn"]}
    api_env = functions[_function_id(built, "api")]["Properties"]["Environment"]["Variables"]
    assert "SFNFLOW_STREAM_URL" in api_env


def test_stage_logs_access_and_throttles(built: Built) -> None:
    stage_id, stage = _one(built, "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "dev" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 100,
                                             "ThrottlingRateLimit": 50}
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "connectionId", "eventType", "routeKey", "status"} <= set(log_format)
    assert "Fn::GetAtt" in stage["AccessLogSettings"]["DestinationArn"]
    # the account's logging role (set by the REST API) exists before the stage logs
    depends = built.template.to_json()["Resources"][stage_id].get("DependsOn", [])
    assert any("Account" in d for d in depends)


def test_only_the_progress_table_streams_new_images(built: Built) -> None:
    streamed = {r["Properties"]["TableName"]: r["Properties"]["StreamSpecification"]
                for r in built.resources("AWS::DynamoDB::Table").values()
                if "StreamSpecification" in r["Properties"]}
    assert streamed == {f"sfnflow-dev-{TABLE_SUFFIXES[ProgressEventModel]}":
                        {"StreamViewType": "NEW_IMAGE"}}
    assert len(ALL_MODELS) > 1


def test_the_progress_stream_feeds_the_publisher_with_partial_failures(built: Built) -> None:
    _, mapping = _one(built, "AWS::Lambda::EventSourceMapping")
    progress = _logical_id(built, built.stack.tables.tables[TABLE_SUFFIXES[ProgressEventModel]])
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [progress, "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": _function_id(built, "stream-publisher")}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}
    assert mapping["MaximumRetryAttempts"] >= 1


def test_only_the_publisher_manages_connections_of_this_stage(built: Built) -> None:
    api_id = _logical_id(built, built.stack.streams.api)
    statements = policy_statements(built, "Functions/StreamPublisherRole")
    [manage] = [s for s in statements if s["Action"] == "execute-api:ManageConnections"]
    rendered = [json.dumps(arn) for arn in manage["Resource"]]
    assert len(rendered) == 2
    for arn, method in zip(rendered, ("POST", "DELETE"), strict=True):
        assert api_id in arn and f"/dev/{method}/@connections/*" in arn
    for role in ("Api", "NodeRunner", "StreamConnections", "Webhooks"):
        assert "execute-api:ManageConnections" not in actions_of(
            policy_statements(built, f"Functions/{role}Role")), role


def test_stream_functions_reach_only_the_tables_they_use(built: Built) -> None:
    suffix_of = {_logical_id(built, table): suffix
                 for suffix, table in built.stack.tables.tables.items()}

    def tables_of(role: str) -> dict[str, set[str]]:
        reached: dict[str, set[str]] = {}
        for statement in policy_statements(built, f"Functions/{role}Role"):
            actions = actions_of([statement])
            if any(a.startswith("dynamodb:") for a in actions) and statement["Resource"] != "*":
                for table in re.findall(r'"Fn::GetAtt": \["(\w+)", "Arn"\]',
                                        json.dumps(statement["Resource"])):
                    reached.setdefault(suffix_of[table], set()).update(actions)
        return reached

    assert tables_of("StreamConnections") == {
        "executions": {"dynamodb:GetItem"},
        "stream-connections": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}}
    publisher = tables_of("StreamPublisher")
    assert set(publisher) == {"executions", "workflows", "progress", "stream-connections"}
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem"} & set().union(*publisher.values())
    for role in ("StreamConnections", "StreamPublisher"):
        assert not any(a.startswith("s3:") for a in actions_of(
            policy_statements(built, f"Functions/{role}Role")))


def test_the_publisher_knows_the_callback_url(built: Built) -> None:
    function = built.resources("AWS::Lambda::Function")[
        _function_id(built, "stream-publisher")]["Properties"]
    endpoint = json.dumps(function["Environment"]["Variables"]["SFNFLOW_STREAM_ENDPOINT"])
    assert endpoint.startswith('{"Fn::Join": ["", ["https://"')
    assert _logical_id(built, built.stack.streams.api) in endpoint and endpoint.endswith(
        '"/dev"]]}')


def test_the_wss_url_is_an_output(built: Built) -> None:
    output = built.template.to_json()["Outputs"]["ProgressStreamUrl"]
    value = json.dumps(output["Value"])
    assert value.startswith('{"Fn::Join": ["", ["wss://"') and value.endswith('"/dev"]]}')
    assert "executionId" in output["Description"]
