"""The node runner's grants on the tables dynamodb nodes name: exactly their operations'
actions, on those tables and indexes, nothing for a table known only at run time."""

from __future__ import annotations

from typing import Any

from compiler import compile_workflow


def _workflow(*nodes: dict[str, Any]) -> Any:
    named = [{"name": f"N{index}", "type": "dynamodb", **node}
             for index, node in enumerate(nodes)]
    return compile_workflow({
        "name": "ddb", "nodes": [{"name": "Start", "type": "manualTrigger"}, *named],
        "connections": [{"from": "Start", "to": node["name"]} for node in named]})


def _statements(workflows: dict[str, Any], context: dict[str, Any] | None = None
                ) -> list[dict[str, Any]]:
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template
    from sfnflow_cdk.dynamodb_node_access import grant_node_tables

    stack = Stack(App(context=context or {}), "S",
                  env={"account": "111122223333", "region": "eu-west-1"})
    role = iam.Role(stack, "Runner", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant_node_tables(role, stack, workflows)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]
                  ["Statement"]]
    return [{"Action": s["Action"] if isinstance(s["Action"], list) else [s["Action"]],
             "Resource": stack.resolve(s["Resource"])} for s in statements]


def _arn(resource: Any) -> str:
    return "".join(part if isinstance(part, str) else "aws" for part in
                   resource["Fn::Join"][1]) if isinstance(resource, dict) else resource


TABLE = "arn:aws:dynamodb:eu-west-1:111122223333:table/"


def test_each_table_gets_the_actions_of_its_operations_only() -> None:
    workflow = _workflow(
        {"parameters": {"operation": "get", "table": "orders", "key": {"id": 1}}},
        {"parameters": {"operation": "put", "table": "orders"}},
        {"parameters": {"operation": "query", "table": "events", "indexName": "byDay",
                        "keyConditionExpression": "d = :d"}},
        {"parameters": {"operation": "delete", "table": "{% $json.table %}",
                        "key": {"id": 1}}})
    granted = {_arn(s["Resource"]): sorted(s["Action"]) for s in _statements({"w": workflow})}
    assert granted == {TABLE + "orders": ["dynamodb:GetItem", "dynamodb:PutItem"],
                       TABLE + "events/index/byDay": ["dynamodb:Query"]}


def test_tables_named_by_expression_are_granted_from_the_context_only() -> None:
    workflow = _workflow({"parameters": {"operation": "get", "table": "{% $json.t %}",
                                         "key": {"id": 1}}})
    assert _statements({"w": workflow}) == []
    granted = {_arn(s["Resource"]): sorted(s["Action"])
               for s in _statements({"w": workflow}, {"dynamodbTables": "a1x, b2y"})}
    assert granted[TABLE + "a1x"] == sorted(["dynamodb:GetItem", "dynamodb:PutItem",
                                             "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                             "dynamodb:Query"])
    assert granted[TABLE + "b2y/index/*"] == ["dynamodb:Query"]
