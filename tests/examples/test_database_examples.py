"""The database examples (examples/databases/) end to end on the embedded cloud: real ASL
interpreter, the node runner in-process, DynamoDB and Secrets Manager in moto, DuckDB in
the runner, a real PostgreSQL (``tests.support.postgres_server``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from compiler import compile_workflow, load_file
from functions import credentials
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE
from tests.examples.test_examples import run_compiled
from tests.support.asl_validator import assert_valid_asl
from tests.support.postgres_server import PostgresServer, postgres_server

__all__ = ["postgres_server"]  # the session's PostgreSQL, a fixture

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "databases"
ORDERS_TABLE = "sfnflow-example-orders"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module's runs (each run is its own execution)."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def run_example(cloud: LocalCloud, name: str, user_input: object = None) -> dict:
    compiled = compile_workflow(load_file(EXAMPLES / name))
    assert_valid_asl(compiled)
    return run_compiled(cloud, compiled, user_input)


SHOP = {"orders": [{"id": 1, "customer": "ada", "total": 120.0, "placed": "2026-01-02"},
                   {"id": 2, "customer": "bob", "total": 30.5, "placed": "2026-01-03"},
                   {"id": 3, "customer": "ada", "total": 80.0, "placed": "2026-01-07"},
                   {"id": 4, "customer": "cy", "total": 12.25, "placed": "2026-01-09"}],
        "customers": [{"customer": "ada", "tier": "gold", "address": {"city": "Oslo"}},
                      {"customer": "bob", "tier": "silver", "address": {"city": "Rome"}},
                      {"customer": "cy", "tier": "silver", "address": {"city": "Lima"}}]}


def test_sql_items_joins_groups_and_ranks(cloud: LocalCloud) -> None:
    report = run_example(cloud, "sql-items.yaml", SHOP)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Spend per customer"] == [
        {"customer": "ada", "tier": "gold", "city": "Oslo", "orders": 2, "spent": 200.0,
         "lastOrder": "2026-01-07", "rank": 1},
        {"customer": "bob", "tier": "silver", "city": "Rome", "orders": 1, "spent": 30.5,
         "lastOrder": "2026-01-03", "rank": 2},
        {"customer": "cy", "tier": "silver", "city": "Lima", "orders": 1, "spent": 12.25,
         "lastOrder": "2026-01-09", "rank": 3}]


def _orders_table() -> Any:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    if ORDERS_TABLE in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=ORDERS_TABLE)
    dynamodb.create_table(
        TableName=ORDERS_TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    return dynamodb


ORDERS = [{"id": 1, "customer": "ada", "total": 120.5}, {"id": 2, "customer": "bob",
                                                          "total": 30},
          {"id": 3, "customer": "ada", "total": 80}]


def test_dynamodb_orders_writes_updates_and_queries(cloud: LocalCloud) -> None:
    _orders_table()
    report = run_example(cloud, "dynamodb-orders.yaml", ORDERS)
    assert report["status"] == "SUCCEEDED", report["error"]
    totals = {item["pk"]: (item["spent"], item["orders"])
              for item in report["nodes"]["Add to total"]["output"][0]}
    assert totals == {"customer#ada": (200.5, 2), "customer#bob": (30, 1)}
    assert sorted((item["pk"], item["sk"], item["total"])
                  for item in report["output"]["Orders of customer"]) == [
        ("customer#ada", "order#1", 120.5), ("customer#ada", "order#3", 80),
        ("customer#bob", "order#2", 30)]
    logs = report["nodes"]["Save order"]["logs"]
    assert logs and '"sfnflow-example-orders": {"capacityUnits": 3.0}' in logs[0]
    (saved,) = [run for run in cloud.repository.node_runs(report["executionId"])
                if run.node == "Save order"]  # kept with the run, as the API shows it
    assert saved.consumed_capacity is not None
    assert saved.consumed_capacity["tables"] == {"sfnflow-example-orders": {"capacityUnits": 3.0}}


def test_dynamodb_failed_condition_fails_the_run_and_keeps_what_ran(
        cloud: LocalCloud) -> None:
    _orders_table().put_item(TableName=ORDERS_TABLE, Item={
        "pk": {"S": "customer#ada"}, "sk": {"S": "order#1"}, "total": {"N": "1"}})
    report = run_example(cloud, "dynamodb-orders.yaml", ORDERS[:1])  # saved already
    assert report["status"] == "FAILED"
    assert report["error"]["node"] == "Save order"
    assert report["error"]["type"] == "Sfnflow.ConditionalCheckFailed"
    assert report["nodes"]["Start"]["status"] == "success"
    assert report["nodes"]["Add to total"]["status"] == "not run"


@pytest.fixture(scope="module")
def warehouse(cloud: LocalCloud, postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The example's credential in the cloud's Secrets Manager, and an empty orders table."""
    credentials.reset()
    credentials.store_for(cloud.config).create("warehouse", credentials.Postgres(
        host=postgres_server.host, port=postgres_server.port,
        database=postgres_server.database, user=postgres_server.user,
        password=postgres_server.password))
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS orders")
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, "
                      "total numeric(10,2))")
        conn.execute("INSERT INTO orders VALUES (2, 'bob', 30)")  # upserted by the run
    yield postgres_server
    credentials.reset()


def test_postgres_orders_upserts_and_queries_per_customer(
        cloud: LocalCloud, warehouse: PostgresServer) -> None:
    report = run_example(cloud, "postgres-orders.yaml",
                         [ORDERS[0], {"id": 2, "customer": "bob", "total": 31}, ORDERS[2]])
    assert report["status"] == "SUCCEEDED", report["error"]
    assert sorted(report["output"]["Customer totals"], key=lambda row: row["customer"]) == [
        {"customer": "ada", "orders": 2, "spent": 200.5},
        {"customer": "bob", "orders": 1, "spent": 31}]
    runs = cloud.repository.node_runs(report["executionId"])
    assert warehouse.password not in repr(runs)


def test_postgres_unreachable_fails_at_the_node_and_keeps_what_ran(
        cloud: LocalCloud, warehouse: PostgresServer) -> None:
    credentials.store_for(cloud.config).rotate("warehouse", credentials.Postgres(
        host="127.0.0.1", port=_closed_port(), database=warehouse.database,
        user=warehouse.user, password=warehouse.password))
    credentials.reset()
    try:
        report = run_example(cloud, "postgres-orders.yaml", ORDERS[:1])
    finally:
        credentials.store_for(cloud.config).rotate("warehouse", credentials.Postgres(
            host=warehouse.host, port=warehouse.port, database=warehouse.database,
            user=warehouse.user, password=warehouse.password))
        credentials.reset()
    assert report["status"] == "FAILED"
    assert report["error"]["node"] == "Save orders"
    assert report["error"]["type"] == "Sfnflow.ConnectionError"
    assert "cannot reach PostgreSQL at 127.0.0.1:" in report["error"]["message"]
    assert report["nodes"]["Start"]["status"] == "success"


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
