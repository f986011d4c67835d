"""The execution viewer: a static page served by the API function, and the one data route
only it needs (a workflow's graph drawn as SVG).

The page (``GET /viewer``) and its two assets (``GET /viewer/viewer.js``, ``viewer.css``)
are public static content: they hold no data, so API Gateway lets them through without a
key, and ``sfnflow serve`` does the same (``local.server_routes``). Everything the page
shows comes from the ordinary keyed routes (``/workflows``, ``/executions``, the stats,
cost and logs routes) called from the browser with ``x-api-key``: the page asks a person
for the key once and keeps it in ``sessionStorage`` — gone when the tab closes, never
sent anywhere but this API, never in a URL or a cookie (a cookie would ride along on
every request, inviting cross-site request forgery).

No build step: plain HTML, one ES module and one stylesheet, read from
``viewer_assets/`` next to this module (the Lambda asset copies ``functions/`` whole).

``GET /workflows/{id}/graph`` is the layout of ``sfnflow graph`` (``compiler.render``) for
one version of the workflow; every node's box carries ``data-node``, which the page
colours by the status of the execution it shows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.services.workflows import WorkflowNotFound

router = Router()

ASSETS = Path(__file__).with_name("viewer_assets")
CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}
# The page runs only its own script and style, and talks to its own origin (and, in AWS,
# the WebSocket API for live progress); it can be framed by nobody.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self' wss:; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
CACHE_SECONDS = 300  # short: a deploy shows within minutes without versioned file names


@cache
def asset(name: str) -> str:
    """An asset's text, read once per container."""
    return (ASSETS / name).read_text(encoding="utf-8")


def _static(name: str) -> Response[str]:
    return Response(status_code=200, content_type=CONTENT_TYPES[name], body=asset(name),
                    headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}",
                             "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                             "X-Content-Type-Options": "nosniff"})


@router.get("/viewer", include_in_schema=False)
def page() -> Response[str]:
    return _static("index.html")


@router.get("/viewer/<name>", include_in_schema=False)
def static_asset(name: str) -> Response[str]:
    if name not in CONTENT_TYPES:
        return error_response(404, "NotFound", f"the viewer has no file {name[:80]!r}")
    return _static(name)


@router.get("/workflows/<workflow_id>/graph",
            summary="The workflow drawn as SVG (the layout of `sfnflow graph`)")
def graph(workflow_id: str,
          version: Annotated[int | None, Query(ge=1, description="Default: current")] = None,
          ) -> Response[str]:
    # The compiler loads here, not at import: the API's other routes never need it.
    from compiler import compile_workflow
    from compiler.render import svg

    workflows = services().workflows
    record = workflows.get(workflow_id)
    document = record.document
    if version is not None and version != record.version:
        found = [v["document"] for v in workflows.workflows.versions(workflow_id)
                 if v["version"] == version]
        if not found:
            raise WorkflowNotFound(f"workflow {workflow_id!r} has no version {version}")
        document = found[0]
    return Response(status_code=200, content_type="image/svg+xml",
                    body=svg(compile_workflow(document).graph))
