"""``local.call_recorder``'s IAM requests for the agent node's calls: a Bedrock model call
and a sub-workflow tool's child execution, checked against the resources the node
runner's policy names (``sfnflow_cdk.permissions.grant_agent_calls``)."""

from __future__ import annotations

from local.call_recorder import _Context, requests_for
from tests.support.iam_policy import matches

CONTEXT = _Context(region="eu-west-1", account="111122223333", endpoint="")
FOUNDATION_MODELS = "arn:aws:bedrock:*::foundation-model/*"
PROFILES = "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/*"


def _resource(operation: str, params: dict[str, str], action: str) -> str:
    [request] = requests_for("bedrock-runtime", operation, params, CONTEXT)
    assert request.action == action
    [arn] = request.resources
    return arn


def test_converse_with_a_model_id_is_invoke_model_on_the_foundation_model() -> None:
    arn = _resource("Converse", {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
                    "bedrock:InvokeModel")
    assert arn == "arn:aws:bedrock:eu-west-1::foundation-model/" \
                  "anthropic.claude-3-haiku-20240307-v1:0"
    assert matches(FOUNDATION_MODELS, arn) and not matches(PROFILES, arn)


def test_converse_with_a_profile_id_is_invoke_model_on_the_accounts_profile() -> None:
    arn = _resource("Converse", {"modelId": "eu.amazon.nova-pro-v1:0"}, "bedrock:InvokeModel")
    assert matches(PROFILES, arn) and not matches(FOUNDATION_MODELS, arn)
    given = "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/abc"
    assert _resource("InvokeModel", {"modelId": given}, "bedrock:InvokeModel") == given


def test_a_sub_workflow_tools_calls_name_the_machine_and_the_execution() -> None:
    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:sfnflow-dev-child"
    execution = "arn:aws:states:eu-west-1:111122223333:execution:sfnflow-dev-child:t1"
    for operation, params, action, arn in (
            ("StartExecution", {"stateMachineArn": machine}, "states:StartExecution", machine),
            ("DescribeExecution", {"executionArn": execution}, "states:DescribeExecution",
             execution),
            ("StopExecution", {"executionArn": execution}, "states:StopExecution", execution)):
        [request] = requests_for("stepfunctions", operation, params, CONTEXT)
        assert (request.action, request.resources) == (action, (arn,))
