"""The API resolver: routers, error handlers and the OpenAPI document."""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.api import (
    breakers,
    costs,
    credentials,
    dead_letters,
    executions,
    logs,
    pins,
    redrive,
    stats,
    streams,
    viewer,
    waits,
    workflows,
)
from functions.api.errors import register_error_handlers
from functions.api.gateway import cors_config
from functions.api.limits import bounded_ids
from functions.api.requests import parse_json
from functions.config import Config

# CORS: preflights answered, every response names the allowed origin (``gateway``).
# Bodies are read within limits (``requests.parse_json``): depth, numbers, strings.


class Resolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with path parameters as API Gateway has them: one
    non-empty segment of any characters. Powertools' own pattern leaves out ``?``, ``#``,
    ``"`` and others a node name may hold: ``/executions/{id}/nodes/Big%3F`` was a 404."""

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}/*$") -> re.Pattern[str]:
        return re.compile(base_regex.format(re.sub(r"(<\w+>)", r"(?P\1[^/]+)", rule)))


app = Resolver(enable_validation=True, cors=cors_config(Config.from_env()),
               json_body_deserializer=parse_json)
app.include_router(workflows.router)
app.include_router(executions.router)
app.include_router(logs.router)  # GET /executions/{id}/logs
app.include_router(pins.router)
app.include_router(waits.router)
app.include_router(streams.router)
app.include_router(costs.router)
app.include_router(stats.router)
app.include_router(dead_letters.router)  # GET /admin/dead-letters, POST .../redrive
app.include_router(redrive.router)  # POST /executions/{id}/redrive (Step Functions')
app.include_router(breakers.router)  # GET /admin/breakers, per workflow and node
app.include_router(credentials.router)  # /credentials: named secrets, values write-only
app.include_router(viewer.router)  # the execution viewer's page (public) and graph
register_error_handlers(app)
app.use([bounded_ids])  # ids no DynamoDB key can hold are 404s before any lookup


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(
        title="sfnflow", version="1", description="Deploy workflows and run them.")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)
