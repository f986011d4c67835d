"""The postgres node: a parameterised query, or insert / update / upsert / delete of the
input items, in PostgreSQL through psycopg 3; one output item per row.

Values only ever reach PostgreSQL as bound parameters, and names (schema, table,
columns) as quoted identifiers (``psycopg.sql``): an item cannot change a statement.
Objects (and lists of objects) are sent as ``jsonb``, other lists as arrays.

Transactions: ``perNode`` runs every item's statement in one transaction on one
connection, so a failure rolls all of them back; ``perItem`` commits each on its own. No
transaction spans nodes or executions: each node run is a Lambda invocation with its own
connection, and a transaction cannot outlive it (the next node may run in another
environment, minutes later, or be retried). A workflow that needs several statements
atomically puts them in one node (one executeQuery may hold several statements).

An unreachable server is ``Sfnflow.ConnectionError`` naming host:port, retried by default;
a refused login or unknown database ``Sfnflow.DatabaseError``, and a failed statement
``Sfnflow.SqlError`` naming the node and item; neither is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from functions.credentials import Postgres as PostgresCredential
from functions.credentials import node_credential
from functions.errors import ConnectionFailed, ParameterError
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.databases.errors import DatabaseError, SqlError
from functions.nodes.databases.values import row_item
from functions.nodes.items import main_input

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

# What libpq says when the server answered and refused a login that will fail again
# (psycopg gives no SQLSTATE for a failed connection): a wrong password or user, an
# unknown database, no pg_hba.conf entry. "Too many clients" and the rest are retried.
REFUSED_LOGIN = ("authentication failed", "does not exist", "no pg_hba.conf entry",
                 "permission denied")


def where(credential: PostgresCredential) -> str:
    return f"{credential.host}:{credential.port} (database {credential.database!r})"


def connect(credential: PostgresCredential, params: Any, node: str) -> psycopg.Connection:
    import psycopg

    try:
        return psycopg.connect(
            host=credential.host, port=credential.port, dbname=credential.database,
            user=credential.user, password=credential.password, sslmode=credential.ssl,
            connect_timeout=params.connectTimeoutSeconds, application_name="sfnflow",
            options=f"-c statement_timeout={max(1, round(params.statementTimeoutSeconds * 1000))}",
            autocommit=True)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if any(phrase in str(exc) for phrase in REFUSED_LOGIN):
            raise DatabaseError(f"node {node!r}: PostgreSQL at {where(credential)} refused "
                                f"the login: {reason}") from None
        raise ConnectionFailed(f"node {node!r}: cannot reach PostgreSQL at "
                               f"{where(credential)}: {reason}") from None


def _value(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    if isinstance(value, dict) or (isinstance(value, list)
                                   and any(isinstance(v, (dict, list)) for v in value)):
        return Jsonb(value)
    return value


def _columns(params: Any, item: Item) -> list[str]:
    return list(params.columns) if params.columns is not None else list(item)


def statement(params: Any, item: Item, node: str, index: int
              ) -> tuple[str | sql.Composed, list[Any] | None]:
    """The statement of one item and its bound values."""
    from psycopg import sql

    if params.operation == "executeQuery":
        values = list(params.queryParameters)
        return params.query, [_value(v) for v in values] if values else None
    table = sql.Identifier(params.schema_, params.table)
    missing = [name for name in params.matchColumns if name not in item]
    if missing:
        raise ParameterError(f"node {node!r}, item {index}: no field {missing[0]!r} to "
                             f"match rows on (matchColumns)")
    match = list(params.matchColumns)
    condition = sql.SQL(" AND ").join(
        sql.SQL("{} = %s").format(sql.Identifier(name)) for name in match)
    returning = sql.SQL(" RETURNING *" if params.returning else "")
    if params.operation == "delete":
        return (sql.SQL("DELETE FROM {} WHERE {}").format(table, condition) + returning,
                [_value(item[name]) for name in match])
    columns = _columns(params, item)
    if not columns:
        raise ParameterError(f"node {node!r}, item {index}: no fields to write")
    values = [_value(item.get(name)) for name in columns]
    if params.operation == "update":
        changed = [name for name in columns if name not in match]
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changed)
        return (sql.SQL("UPDATE {} SET {} WHERE {}").format(table, assignments, condition)
                + returning,
                [_value(item.get(name)) for name in changed]
                + [_value(item[name]) for name in match])
    insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    if params.operation == "upsert":
        changed = [name for name in columns if name not in match]
        keys = sql.SQL(", ").join(map(sql.Identifier, match))
        action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in changed)) \
            if changed else sql.SQL("DO NOTHING")
        insert += sql.SQL(" ON CONFLICT ({}) {}").format(keys, action)
    return insert + returning, values


def results(cursor: psycopg.Cursor[Any]) -> list[Item]:
    """Every result set's rows; a statement without one (and RETURNING turned off) gives
    one ``{rowCount}`` item."""
    out: list[Item] = []
    while True:
        if cursor.description is not None:
            names = [column.name for column in cursor.description]
            out.extend(row_item(names, row) for row in cursor.fetchall())
        else:
            out.append({"rowCount": cursor.rowcount})
        if not cursor.nextset():
            return out


@contextmanager
def translated(credential: PostgresCredential, node: str, index: int) -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.OperationalError as exc:
        if exc.sqlstate is None or exc.sqlstate.startswith("08"):  # the connection went
            raise ConnectionFailed(f"node {node!r}, item {index}: lost PostgreSQL at "
                                   f"{where(credential)}: {exc}") from None
        raise SqlError(f"node {node!r}, item {index}: {_describe(exc)}") from None
    except psycopg.Error as exc:
        raise SqlError(f"node {node!r}, item {index}: {_describe(exc)}") from None


def _describe(exc: Any) -> str:
    state = f" (SQLSTATE {exc.sqlstate})" if getattr(exc, "sqlstate", None) else ""
    return f"{str(exc).strip()}{state}"


@register
class Postgres(Executor):
    type_name = "postgres"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        node_params: Any = ctx.node_params()
        credential = node_credential(ctx, PostgresCredential)
        out: list[Item] = []
        with connect(credential, node_params, ctx.node_name) as conn:
            per_node = node_params.transaction == "perNode"
            with conn.transaction() if per_node else _nothing():
                for index, item in enumerate(items):
                    params: Any = ctx.params(item, index)
                    query, values = statement(params, item, ctx.node_name, index)
                    with translated(credential, ctx.node_name, index), \
                            _nothing() if per_node else conn.transaction(), \
                            conn.cursor() as cursor:
                        cursor.execute(query, values)
                        out.extend(results(cursor))
        return [out]


@contextmanager
def _nothing() -> Iterator[None]:
    yield
