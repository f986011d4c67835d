"""What the node runner may do with the DynamoDB tables the deployed workflows' dynamodb
nodes name: the actions of their operations, on those tables (and indexes) only.

Scope: the workflows compiled into the stack (``workflowsDir``). A node naming its table
literally grants that table exactly the actions its operations use (get: GetItem, put:
PutItem, update: UpdateItem, delete: DeleteItem, query: Query on the table, or on the
named index). A table or index named by an expression is known only at run time: list
such tables in the context ``dynamodbTables`` (comma-separated names; every operation's
action on them and their indexes) — nothing is granted on a guess, and there is no ``*``.
Workflows deployed later through the API reach only tables granted here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from compiler import CompiledWorkflow
from compiler.expressions import has_expression

CONTEXT_KEY = "dynamodbTables"
ACTIONS = {"get": "dynamodb:GetItem", "put": "dynamodb:PutItem",
           "update": "dynamodb:UpdateItem", "delete": "dynamodb:DeleteItem",
           "query": "dynamodb:Query"}
ANY_INDEX = "*"


def table_access(workflows: Iterable[CompiledWorkflow]
                 ) -> dict[tuple[str, str | None], set[str]]:
    """``(table, index or None) -> actions`` for every dynamodb node whose table (and
    index) is literal; an expression-named index of a literal table is ``ANY_INDEX``."""
    access: dict[tuple[str, str | None], set[str]] = {}
    for workflow in workflows:
        for node in workflow.graph.workflow.nodes:
            if node.type != "dynamodb":
                continue
            table, operation = node.parameters.get("table"), node.parameters.get("operation")
            if not isinstance(table, str) or has_expression(table) or operation not in ACTIONS:
                continue
            index = node.parameters.get("indexName") if operation == "query" else None
            if isinstance(index, str) and has_expression(index):
                index = ANY_INDEX
            access.setdefault((table, index or None), set()).add(ACTIONS[str(operation)])
    return access


def context_tables(value: Any) -> list[str]:
    if not value:
        return []
    names = value if isinstance(value, list) else str(value).split(",")
    return sorted({str(name).strip() for name in names if str(name).strip()})


def grant_node_tables(role: iam.IRole, stack: Stack,
                      workflows: Mapping[str, CompiledWorkflow]) -> None:
    access = table_access(workflows.values())
    for name in context_tables(stack.node.try_get_context(CONTEXT_KEY)):
        access.setdefault((name, None), set()).update(ACTIONS.values())
        access.setdefault((name, ANY_INDEX), set()).add(ACTIONS["query"])
    for (table, index), actions in sorted(access.items(), key=lambda pair: (
            pair[0][0], pair[0][1] or "")):
        arn = stack.format_arn(service="dynamodb", resource="table", resource_name=table)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=sorted(actions), resources=[f"{arn}/index/{index}" if index else arn]))
