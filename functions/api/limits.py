"""Ids in request paths, bounded by what DynamoDB can look up.

Route ids (workflow, execution, node) become DynamoDB key values: a partition key holds
at most 2,048 bytes and a sort key 1,024 (AWS, "Constraints in Amazon DynamoDB"), and a
longer value is a ``ValidationException`` — a 500 in AWS, while moto answers "not found".
No id sfnflow creates comes near (Step Functions names: 80 characters), so a longer one
names nothing: ``IdTooLong``, a 404 saying why, before any lookup — except on the public
resume route, whose ids are checked at the same cost as any wrong signature (a 403 that
tells a caller without the URL nothing: ``functions.services.waits``). Query values that
become keys are bounded where the routes declare them (``max_length``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response

from compiler.errors import SfnflowError
from functions.services.waits import PUBLIC_ROUTE

ID_MAX_BYTES = 1024  # the tighter of DynamoDB's key limits (a sort key)
QUERY_KEY_MAX_CHARS = 256  # a query value used as a key: 256 characters <= 1,024 bytes


_PATH_PARAMETER = re.compile(r"<(\w+)>")  # powertools' route syntax: /workflows/<workflow_id>


class IdTooLong(SfnflowError, LookupError):
    """A path id longer than any key can be: nothing has it (404)."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__(f"no {name.removesuffix('_id').replace('_', ' ')} has an id of "
                         f"{size:,} bytes: ids hold at most {ID_MAX_BYTES:,}")
        self.name = name


def bounded_ids(app: Any, next_middleware: Callable[[Any], Response[Any]]) -> Response[Any]:
    """A global middleware: every path parameter within ``ID_MAX_BYTES``."""
    event = app.current_event
    if event.http_method == "POST" and PUBLIC_ROUTE.match(event.path):
        return next_middleware(app)
    route = app.context.get("_route")
    arguments = app.context.get("_route_args") or {}
    for name in _PATH_PARAMETER.findall(getattr(route, "path", "") or ""):
        value = arguments.get(name, "")
        size = len(str(value).encode("utf-8", "surrogatepass"))
        if size > ID_MAX_BYTES:
            raise IdTooLong(name, size)
    return next_middleware(app)
