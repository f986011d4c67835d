"""The database node types: SQL over items (DuckDB), DynamoDB and PostgreSQL.

Their parameter models live here rather than in ``compiler.nodetypes`` so the catalogue
stays a list; ``compiler.nodetypes`` adds ``node_types()`` to ``NODE_TYPES`` (import this
module through it, as the executors do, never first: it builds on the catalogue's ``Params``).

SQL text (``query`` of sqlItems and postgres) is never evaluated as an expression: values
reach a statement as bound parameters only, so an item can never change what a statement
does. DynamoDB's own expressions (``#name``, ``:value``) do not collide with ``{% %}``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from compiler.nodetypes import Expr, NodeType, Params

SQL_ITEMS_MAX_INPUTS = 10
DYNAMODB_QUERY_MAX_ITEMS = 10_000


class SqlItemsParams(Params):
    raw_fields: ClassVar[frozenset[str]] = frozenset({"query"})
    query: str = Field(
        min_length=1, description="DuckDB SQL over the input items: input port N is the "
        "table `inputN` (`input1` ... ), one row per item, one column per top-level field "
        "(types inferred from all items: numbers, dates, timestamps, nested objects as "
        "STRUCTs, lists as LISTs, mixed types as JSON). Every result row is an item.")
    numberInputs: int = Field(1, ge=1, le=SQL_ITEMS_MAX_INPUTS,
                              description="Input ports, the tables input1..inputN.")
    memoryLimitMb: int = Field(256, ge=16, le=10_240, description="DuckDB's memory "
                               "limit; a query needing more fails with Sfnflow.SqlError.")


DynamoDbOperation = Literal["get", "put", "update", "delete", "query"]
ReturnValues = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
# A literal table name as DynamoDB allows it (an expression is checked when evaluated).
TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$|\{%"


class DynamoDbParams(Params):
    """One request per input item; every field may be an expression evaluated per item.
    Attribute values are plain JSON (numbers, strings, booleans, null, lists, objects),
    converted to DynamoDB's types by the runner."""

    operation: DynamoDbOperation = Field(description="get / put / update / delete an "
                                         "item by its key, or query by key condition.")
    table: str = Field(pattern=TABLE_NAME, description="Table name. The node runner may "
                       "use the tables named literally in deployed workflows (see README).")
    key: dict[str, Any] | Expr | None = Field(
        None, description="get / update / delete: the primary key, e.g. {id: '{% $json.id %}'}.")
    item: dict[str, Any] | Expr | None = Field(
        None, description="put: the item to write; default: the input item.")
    updateExpression: str | None = Field(None, description="update: e.g. 'SET #n = :v'.")
    conditionExpression: str | None = Field(
        None, description="put / update / delete: write only if it holds; else the node "
        "fails with Sfnflow.ConditionalCheckFailed.")
    keyConditionExpression: str | None = Field(None, description="query: e.g. 'pk = :pk'.")
    filterExpression: str | None = None
    projectionExpression: str | None = None
    expressionAttributeNames: dict[str, str] = Field(default_factory=dict)
    expressionAttributeValues: dict[str, Any] | Expr = Field(default_factory=dict)
    indexName: str | None = Field(None, description="query: a secondary index.")
    scanIndexForward: bool = True
    consistentRead: bool = False
    limit: int = Field(1000, ge=1, le=DYNAMODB_QUERY_MAX_ITEMS,
                       description="query: at most this many items per input item.")
    returnValues: ReturnValues | None = Field(
        None, description="update: default ALL_NEW; delete: default ALL_OLD; put: "
        "NONE or ALL_OLD (default: the written item is the output).")

    @model_validator(mode="after")
    def _operation_fields(self) -> DynamoDbParams:
        needs = {"get": ("key",), "update": ("key", "updateExpression"), "delete": ("key",),
                 "query": ("keyConditionExpression",), "put": ()}[self.operation]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"operation {self.operation} needs {', '.join(missing)}")
        return self


PostgresOperation = Literal["executeQuery", "insert", "update", "upsert", "delete"]


class PostgresParams(Params):
    """The connection is the node's credential (``credentials: {name}``, type postgres)."""

    raw_fields: ClassVar[frozenset[str]] = frozenset({"query"})
    operation: PostgresOperation = "executeQuery"
    query: str | None = Field(
        None, description="executeQuery: SQL, run once per input item, with %s "
        "placeholders bound from queryParameters (never formatted into the text).")
    queryParameters: list[Any] | Expr = Field(
        default_factory=list, description="executeQuery: values of the placeholders, "
        "in order; e.g. ['{% $json.id %}'].")
    schema_: str = Field("public", alias="schema", min_length=1)
    table: str | None = Field(None, min_length=1,
                              description="insert / update / upsert / delete: the table.")
    columns: list[str] | None = Field(
        None, description="insert / update / upsert: the item fields written, as columns "
        "of the same name; default: every field of the item.")
    matchColumns: list[str] = Field(
        default_factory=list, description="update / upsert / delete: the columns that "
        "identify a row (upsert: a unique key, ON CONFLICT (...)).")
    returning: bool = Field(True, description="insert / update / upsert / delete: output "
                            "the rows written (RETURNING *); else one {rowCount} per item.")
    transaction: Literal["perNode", "perItem"] = Field(
        "perNode", description="perNode: every item's statement in one transaction, all "
        "rolled back if one fails; perItem: each item commits on its own. A transaction "
        "never spans nodes (each node run is its own Lambda invocation and connection).")
    connectTimeoutSeconds: int = Field(5, ge=1, le=60)
    statementTimeoutSeconds: float = Field(
        30, gt=0, le=900, description="A statement running longer is cancelled "
        "(Sfnflow.SqlError, SQLSTATE 57014).")

    @model_validator(mode="after")
    def _operation_fields(self) -> PostgresParams:
        if self.operation == "executeQuery":
            if not self.query:
                raise ValueError("operation executeQuery needs query")
            return self
        if not self.table:
            raise ValueError(f"operation {self.operation} needs table")
        if self.operation != "insert" and not self.matchColumns:
            raise ValueError(f"operation {self.operation} needs matchColumns")
        return self


def _inputs(params: Any) -> int:
    return int(params.numberInputs)


def node_types() -> list[NodeType]:
    return [
        NodeType("sqlItems", SqlItemsParams, "Runs SQL (DuckDB, in-process) over its "
                 "input items as tables input1..inputN: joins, group-by, window functions; "
                 "one item per result row.", inputs=_inputs),
        NodeType("dynamodb", DynamoDbParams, "Gets, puts, updates or deletes a DynamoDB "
                 "item by key, or queries by key, once per input item; records the "
                 "consumed capacity."),
        NodeType("postgres", PostgresParams, "Runs a parameterised query, or inserts, "
                 "updates, upserts or deletes rows, in PostgreSQL (a postgres credential); "
                 "one item per row."),
    ]
