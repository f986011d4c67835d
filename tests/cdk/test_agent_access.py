"""The node runner's agent and tool nodes in the synthesized policy: sub-workflow tools
run as child executions of this stage's machines, and Bedrock models are invoked."""

from __future__ import annotations

from .conftest import Built
from .test_iam import _by_action

RUNNER = "Functions/NodeRunnerRole"
EXECUTIONS = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:sfnflow-dev-*:*"


def test_runner_starts_follows_and_stops_sub_workflow_tools_of_its_stage(built: Built) -> None:
    by_action = _by_action(built, RUNNER)
    assert by_action["states:StartExecution"]
    assert all(arn.endswith(":stateMachine:sfnflow-dev-*")
               for arn in by_action["states:StartExecution"])
    assert set(by_action["states:DescribeExecution"]) == {EXECUTIONS}
    assert set(by_action["states:StopExecution"]) == {EXECUTIONS}


def test_runner_invokes_foundation_models_and_inference_profiles_only(built: Built) -> None:
    arns = _by_action(built, RUNNER)["bedrock:InvokeModel"]
    assert sorted(arns) == sorted([
        "arn:<AWS::Partition>:bedrock:*::foundation-model/*",
        "arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/*",
        "arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:"
        "application-inference-profile/*",
    ])


def test_no_other_function_may_invoke_a_model(built: Built) -> None:
    from .test_iam import ROLE_PATHS

    for role, path in ROLE_PATHS.items():
        if role != "node-runner":
            assert "bedrock:InvokeModel" not in _by_action(built, path), role
