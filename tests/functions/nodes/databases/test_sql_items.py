"""sqlItems: SQL over tiny inputs, through the executor as the runner calls it."""

from __future__ import annotations

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions.nodes.databases.errors import SqlError
from functions.nodes.databases.sql_items import run_sql

from ..support import run

ORDERS = [{"id": 1, "customer": "ada", "total": 30.5, "day": "2026-01-02"},
          {"id": 2, "customer": "bob", "total": 12, "day": "2026-01-03"},
          {"id": 3, "customer": "ada", "total": 7.25, "day": "2026-01-05"}]
CUSTOMERS = [{"customer": "ada", "tier": "gold", "address": {"city": "Oslo"}},
             {"customer": "bob", "tier": "silver", "address": {"city": "Rome"}}]


def sql(query: str, *ports: list[dict]) -> list[dict]:
    [out] = run("sqlItems", {"query": query, "numberInputs": len(ports)}, *ports)
    return out


def test_join_and_group_by_over_two_inputs() -> None:
    rows = sql("SELECT c.tier, c.address.city AS city, count(*) AS orders, "
               "sum(o.total) AS spent FROM input1 o JOIN input2 c USING (customer) "
               "GROUP BY ALL ORDER BY spent DESC", ORDERS, CUSTOMERS)
    assert rows == [{"tier": "gold", "city": "Oslo", "orders": 2, "spent": 37.75},
                    {"tier": "silver", "city": "Rome", "orders": 1, "spent": 12.0}]


def test_window_function_and_dates() -> None:
    rows = sql("SELECT id, day + 1 AS next_day, row_number() OVER (PARTITION BY customer "
               "ORDER BY day) AS nth FROM input1 ORDER BY id", ORDERS)
    assert rows == [{"id": 1, "next_day": "2026-01-03", "nth": 1},
                    {"id": 2, "next_day": "2026-01-04", "nth": 1},
                    {"id": 3, "next_day": "2026-01-06", "nth": 2}]


def test_types_become_json_values() -> None:
    [row] = sql("SELECT 2.50::DECIMAL(5,2) AS price, 3.00::DECIMAL(5,2) AS whole, "
                "'nan'::DOUBLE AS nan, INTERVAL 90 SECOND AS wait, "
                "TIMESTAMPTZ '2026-01-02 03:04:05+00' AS at, {'a': [1, 2]} AS nested, "
                "'{\"k\": true}'::JSON AS doc, mixed FROM input1",
                [{"mixed": "text"}])
    assert row == {"price": 2.5, "whole": 3, "nan": None, "wait": 90,
                   "at": "2026-01-02T03:04:05+00:00", "nested": {"a": [1, 2]},
                   "doc": {"k": True}, "mixed": "text"}


def test_a_field_of_mixed_types_keeps_its_values() -> None:
    rows = sql("SELECT v FROM input1", [{"v": "x"}, {"v": 1}, {"v": {"a": 1}}, {}])
    assert rows == [{"v": "x"}, {"v": 1}, {"v": {"a": 1}}, {"v": None}]


def test_repeated_column_names_are_kept_apart() -> None:
    rows = sql("SELECT * FROM input1 a JOIN input2 b ON a.id = b.id", [{"id": 1}],
               [{"id": 1}])
    assert rows == [{"id": 1, "id_1": 1}]


def test_an_input_without_items_is_an_empty_table() -> None:
    rows = sql("SELECT (SELECT count(*) FROM input2) AS n, id FROM input1",
               [{"id": 1}], [])
    assert rows == [{"n": 0, "id": 1}]


def test_inputs_not_connected_are_empty_tables() -> None:
    [out] = run("sqlItems", {"query": "SELECT count(*) AS n FROM input3",
                             "numberInputs": 3}, [{"id": 1}])
    assert out == [{"n": 0}]


def test_a_sql_error_is_typed_and_names_the_node() -> None:
    with pytest.raises(SqlError, match="node 'Node'.*nope") as caught:
        sql("SELECT nope FROM input1", [{"id": 1}])
    assert caught.value.error_type == "Sfnflow.SqlError" and not caught.value.retryable


def test_the_sql_cannot_read_files_nor_lift_its_limits() -> None:
    with pytest.raises(SqlError, match="disabled by configuration"):
        sql("SELECT * FROM read_csv('/etc/hostname')", [{"id": 1}])
    with pytest.raises(SqlError, match="locked"):
        sql("SET memory_limit = '10GB'", [{"id": 1}])


def test_the_memory_limit_fails_a_query_that_needs_more() -> None:
    with pytest.raises(SqlError, match="memoryLimitMb"):
        run_sql("SELECT list(repeat('x', 1000)) FROM range(200000)", [[{"id": 1}]],
                memory_limit_mb=16, node_name="Big")


def test_spills_go_to_the_temporary_folder_and_nothing_prints() -> None:
    """Lambda's code directory (DuckDB's default ./.tmp) is read only; a progress bar
    would print into the function's log."""
    import tempfile

    from functions.nodes.databases.sql_items import connect

    conn = connect()
    settings = dict(conn.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('temp_directory', 'enable_progress_bar')").fetchall())
    conn.close()
    assert settings["temp_directory"].startswith(tempfile.gettempdir())
    assert settings["enable_progress_bar"] == "false"


def test_a_query_at_the_deadline_is_interrupted() -> None:
    with pytest.raises(SqlError, match="deadline"):
        run_sql("SELECT count(*) FROM range(10000000000) a", [[{"id": 1}]],
                memory_limit_mb=64, node_name="Slow", seconds=0.05)


def _workflow(number_inputs: int, port: int, query: str = "SELECT 1") -> dict:
    return {"name": "sql-ports",
            "nodes": [{"name": "Start", "type": "manualTrigger"},
                      {"name": "Join", "type": "sqlItems",
                       "parameters": {"query": query, "numberInputs": number_inputs}}],
            "connections": [{"from": "Start", "to": "Join", "input": port}]}


def test_numberinputs_gives_the_node_its_input_ports() -> None:
    compile_workflow(_workflow(3, 2))
    with pytest.raises(WorkflowInvalid, match="Join"):
        compile_workflow(_workflow(2, 2))


def test_validation_names_the_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow({
            "name": "sql-bad",
            "nodes": [{"name": "Start", "type": "manualTrigger"},
                      {"name": "Join", "type": "sqlItems",
                       "parameters": {"query": "", "numberInputs": 11}}],
            "connections": [{"from": "Start", "to": "Join"}]})
    text = str(caught.value)
    assert "Join" in text and "query" in text and "numberInputs" in text


@pytest.mark.parametrize("module", ["sql_items", "postgres", "dynamodb"])
def test_database_drivers_load_on_first_use_not_at_a_cold_start(module: str) -> None:
    """A node runner whose workflows use no database pays nothing for the drivers: no
    module-level import of them (DuckDB and psycopg take ~0.4 s each to import)."""
    import ast
    from pathlib import Path

    import functions.nodes.databases as package

    tree = ast.parse((Path(package.__file__).parent / f"{module}.py").read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body
                 if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in (node.names if isinstance(node, ast.Import)
                               else [ast.alias(node.module or "")])}
    assert not top_level & {"duckdb", "psycopg", "boto3", "botocore"}
