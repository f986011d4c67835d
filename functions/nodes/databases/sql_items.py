"""The sqlItems node: SQL over the node's input items, in an in-process DuckDB.

Input port N becomes table ``inputN``: the items are written as newline-delimited JSON
to a temporary file and read with DuckDB's JSON reader, which infers each column's type
from every item (dates and timestamps in ISO text become DATE / TIMESTAMP, objects
STRUCTs, lists LISTs, a field of mixed types JSON). An input without items is an empty
table whose only column is ``json``: DuckDB has no table without columns.

The database is confined before the user's SQL runs: one thread, a memory limit, no file
or network access (``enable_external_access``: the SQL cannot read the function's files,
environment or URLs) and a locked configuration (it cannot lift those). A query still
running at the invocation's deadline is interrupted.

DuckDB is imported on first use: a node runner whose workflows never run SQL does not
pay for loading it at a cold start.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.databases.errors import SqlError
from functions.nodes.databases.values import row_item

if TYPE_CHECKING:
    import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    import duckdb

    conn = duckdb.connect(":memory:", config={
        "threads": 1,
        "autoinstall_known_extensions": False,  # never fetch code at run time
        "autoload_known_extensions": False,
        # Past the memory limit DuckDB spills to disk: /tmp in Lambda (its default, ./.tmp,
        # is in the read-only code directory).
        "temp_directory": os.path.join(tempfile.gettempdir(), "sfnflow-duckdb"),
    })
    conn.execute("SET enable_progress_bar = false")  # it prints to stdout: the function's log
    return conn


def load_table(conn: duckdb.DuckDBPyConnection, name: str, items: Sequence[Item]) -> None:
    if not items:
        conn.execute(f"CREATE TABLE {name} AS SELECT NULL::JSON AS json WHERE false")
        return
    fd, path = tempfile.mkstemp(prefix="sfnflow-sql-", suffix=".ndjson")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, separators=(",", ":"), default=str))
                handle.write("\n")
        conn.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_json(?, format='newline_delimited', "
            "records=true, sample_size=-1)", [path])
    finally:
        os.unlink(path)


def confine(conn: duckdb.DuckDBPyConnection, memory_limit_mb: int) -> None:
    """The user's SQL gets ``memory_limit_mb`` (the items are loaded already: the runner
    holds them in memory anyway), no file system or network, and no setting may change."""
    conn.execute(f"SET memory_limit = '{int(memory_limit_mb)}MB'")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")


@contextmanager
def interrupt_after(conn: duckdb.DuckDBPyConnection, seconds: float | None) -> Iterator[None]:
    timer = threading.Timer(seconds, conn.interrupt) if seconds is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def result_items(cursor: duckdb.DuckDBPyConnection) -> list[Item]:
    description = cursor.description or []
    names = [str(column[0]) for column in description]
    json_columns = {index for index, column in enumerate(description)
                    if str(column[1]) == "JSON"}
    items = []
    for row in cursor.fetchall():
        values = tuple(json.loads(value) if index in json_columns and isinstance(value, str)
                       else value for index, value in enumerate(row))
        items.append(row_item(names, values))
    return items


def run_sql(query: str, ports: Sequence[Sequence[Item]], *, memory_limit_mb: int,
            node_name: str, seconds: float | None = None) -> list[Item]:
    import duckdb

    conn = connect()
    try:
        for index, items in enumerate(ports, start=1):
            load_table(conn, f"input{index}", items)
        confine(conn, memory_limit_mb)
        with interrupt_after(conn, seconds):
            return result_items(conn.execute(query))
    except duckdb.InterruptException:
        raise SqlError(f"node {node_name!r}: the query was still running at the "
                       f"invocation's deadline and was interrupted") from None
    except duckdb.OutOfMemoryException as exc:
        raise SqlError(f"node {node_name!r}: the query needs more than memoryLimitMb "
                       f"({memory_limit_mb} MB): {exc}") from None
    except duckdb.Error as exc:
        raise SqlError(f"node {node_name!r}: {type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


@register
class SqlItems(Executor):
    type_name = "sqlItems"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        params: Any = ctx.node_params()
        ports = [list(inputs[index]) if index < len(inputs) else []
                 for index in range(params.numberInputs)]
        return [run_sql(params.query, ports, memory_limit_mb=params.memoryLimitMb,
                        node_name=ctx.node_name, seconds=ctx.seconds_left())]
