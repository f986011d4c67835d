"""The API resolver: routers, error handlers and the OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.api import executions, pins, waits, workflows
from functions.api.errors import register_error_handlers

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(workflows.router)
app.include_router(executions.router)
app.include_router(pins.router)
app.include_router(waits.router)
register_error_handlers(app)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(
        title="sfnflow", version="1", description="Deploy workflows and run them.")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)
