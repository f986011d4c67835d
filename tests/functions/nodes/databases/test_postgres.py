"""The postgres node against a real PostgreSQL 15 (``postgres_server``, once per session),
its credential read from moto's Secrets Manager as the node runner reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from moto import mock_aws

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions import credentials
from functions.config import Config
from functions.errors import ConnectionFailed, ParameterError
from functions.nodes.base import Ports
from functions.nodes.databases.errors import DatabaseError, SqlError
from tests.support.postgres_server import PostgresServer

from ..support import run

WAREHOUSE, UNREACHABLE, WRONG = "warehouse", "nowhere", "wrong-password"


@pytest.fixture(scope="module")
def server(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """Its credentials in moto's Secrets Manager, and a fresh orders table."""
    with mock_aws():
        credentials.reset()
        store = credentials.store_for(Config.from_env())
        fields = {"host": postgres_server.host, "port": postgres_server.port,
                  "database": postgres_server.database, "user": postgres_server.user,
                  "password": postgres_server.password}
        store.create(WAREHOUSE, credentials.Postgres(**fields))
        store.create(UNREACHABLE, credentials.Postgres(**fields | {"port": _closed_port()}))
        store.create(WRONG, credentials.Postgres(**fields | {"password": "not-the-password"}))
        with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS orders")
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, "
                         "total numeric(10,2), placed date, meta jsonb)")
        yield postgres_server
        credentials.reset()


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


def pg(params: dict[str, Any], items: list[dict], credential: str = WAREHOUSE) -> Ports:
    return run("postgres", params, items, extras={"credentials": {"name": credential}})


def rows(server: PostgresServer, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.conninfo()) as conn:
        return conn.execute(query).fetchall()


def _clear(server: PostgresServer) -> None:
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("DELETE FROM orders")


ORDERS = [{"id": 1, "customer": "ada", "total": 30.5, "placed": "2026-01-02",
           "meta": {"rush": True}},
          {"id": 2, "customer": "bob", "total": 12, "placed": "2026-01-03", "meta": None}]
INSERT = {"operation": "insert", "table": "orders"}


def test_insert_returns_one_item_per_row_with_json_types(server: PostgresServer) -> None:
    _clear(server)
    [out] = pg(INSERT, ORDERS)
    assert out == ORDERS
    assert rows(server, "SELECT count(*) FROM orders") == [(2,)]


def test_query_binds_parameters_per_item(server: PostgresServer) -> None:
    _clear(server)
    pg(INSERT, ORDERS)
    hostile = "x' OR '1'='1"
    [out] = pg({"query": "SELECT id, total FROM orders WHERE customer = %s",
                "queryParameters": ["{% $json.who %}"]}, [{"who": "bob"}, {"who": hostile}])
    assert out == [{"id": 2, "total": 12}]  # the quote is a value, never SQL


def test_update_upsert_and_delete_match_rows(server: PostgresServer) -> None:
    _clear(server)
    pg(INSERT, ORDERS)
    [updated] = pg({"operation": "update", "table": "orders", "matchColumns": ["id"],
                    "columns": ["id", "total"]}, [{"id": 2, "total": 15, "ignored": 1}])
    assert [(row["id"], row["total"]) for row in updated] == [(2, 15)]
    [upserted] = pg({"operation": "upsert", "table": "orders", "matchColumns": ["id"]},
                    [{"id": 2, "customer": "bob", "total": 20},
                     {"id": 3, "customer": "cy", "total": 5}])
    assert [(row["id"], row["total"]) for row in upserted] == [(2, 20), (3, 5)]
    [deleted] = pg({"operation": "delete", "table": "orders", "matchColumns": ["id"],
                    "returning": False}, [{"id": 1}, {"id": 99}])
    assert deleted == [{"rowCount": 1}, {"rowCount": 0}]
    assert rows(server, "SELECT id FROM orders ORDER BY id") == [(2,), (3,)]


def test_per_node_transaction_rolls_every_item_back(server: PostgresServer) -> None:
    _clear(server)
    broken = [{"id": 10, "customer": "ok"}, {"id": 11, "customer": None}]
    with pytest.raises(SqlError, match=r"(?s)node .Node., item 1: .*not-null.*23502") as caught:
        pg(INSERT, broken)
    assert not caught.value.retryable
    assert rows(server, "SELECT count(*) FROM orders") == [(0,)]
    with pytest.raises(SqlError):
        pg(INSERT | {"transaction": "perItem"}, broken)
    assert rows(server, "SELECT id FROM orders") == [(10,)]  # the first item committed


def test_a_missing_match_field_names_the_item(server: PostgresServer) -> None:
    with pytest.raises(ParameterError, match="item 0: no field 'id'"):
        pg({"operation": "delete", "table": "orders", "matchColumns": ["id"]}, [{"x": 1}])


def test_an_unreachable_server_is_retryable_and_says_where(server: PostgresServer) -> None:
    with pytest.raises(ConnectionFailed, match=r"cannot reach PostgreSQL at 127\.0\.0\.1:\d+"
                       ) as caught:
        pg({"query": "SELECT 1", "connectTimeoutSeconds": 1}, [{}], UNREACHABLE)
    assert caught.value.error_type == "Sfnflow.ConnectionError" and caught.value.retryable


def test_a_refused_login_is_not_retried_and_keeps_the_password_out(
        server: PostgresServer) -> None:
    with pytest.raises(DatabaseError, match="refused the login") as caught:
        pg({"query": "SELECT 1"}, [{}], WRONG)
    assert "not-the-password" not in str(caught.value)
    assert server.password not in str(caught.value)


def test_statement_timeout_stops_a_slow_query(server: PostgresServer) -> None:
    with pytest.raises(SqlError, match="57014"):
        pg({"query": "SELECT pg_sleep(5)", "statementTimeoutSeconds": 0.05}, [{}])


def test_validation_names_the_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow({
            "name": "pg-bad",
            "nodes": [{"name": "Start", "type": "manualTrigger"},
                      {"name": "Save", "type": "postgres", "credentials": {"name": "w"},
                       "parameters": {"operation": "upsert", "table": "orders"}}],
            "connections": [{"from": "Start", "to": "Save"}]})
    assert "Save" in str(caught.value) and "matchColumns" in str(caught.value)
