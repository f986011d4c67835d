"""The REST API's resources as the stack declares them, matched the way API Gateway does.

The resource tree mirrors ``cdk/sfnflow_cdk/api.py`` (``local/`` may not import ``cdk/``;
``tests/local/test_server_routes.py`` checks the two agree): the management roots with
an ``ANY`` method that needs the API key and a ``{proxy+}`` below each, one public static
route below an execution (``POST /executions/{execution_id}/resume/{wait_id}``: a signed
resume URL), ``GET /openapi.json``, the public ``/webhook/{proxy+}``, and the execution
viewer's public static files (``GET /viewer``, ``GET /viewer/{proxy+}``). Every resource
answers ``OPTIONS`` without a key (CORS preflights, through the function behind it). The
local Server-Sent Events route (a WebSocket API in AWS) is one more resource here.

Matching follows API Gateway: the path is percent-decoded once and then split at ``/``,
so an encoded slash (``%2F``) separates segments exactly as a literal one does; a path
parameter is one non-empty segment, a ``{proxy+}`` one or more; a static segment is
preferred to a parameter, a parameter to a greedy ``{proxy+}``. Which resource a request
reaches decides whether it needs the key: ``/executions/X%2Fnodes/resume/pin`` is
``/executions/X/nodes/resume/pin``, a keyed ``{proxy+}`` route, never the public resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

API_FUNCTION = "sfnflow-api"
WEBHOOKS_FUNCTION = "sfnflow-webhooks"
STREAM = "stream"  # served by the local gateway itself (live progress, SSE)
# The methods API Gateway knows; ``ANY`` stands for all of them.
HTTP_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
MANAGEMENT_ROOTS = ("workflows", "executions", "admin", "stream-tokens", "stats",
                    "costs", "credentials")
VIEWER_ROOT = "viewer"  # the execution viewer: public static files (functions.api.viewer)


@dataclass(frozen=True)
class Resource:
    """A resource path, the function behind it and its methods (``ANY`` or named), each
    with whether it needs the API key. ``OPTIONS`` never does (CORS preflights)."""

    path: str
    function: str
    methods: dict[str, bool] = field(default_factory=dict)

    def method(self, name: str) -> bool | None:
        """Whether ``name`` needs the API key here; None when the resource lacks it."""
        if name == "OPTIONS":
            return False
        if name in self.methods:
            return self.methods[name]
        return self.methods.get("ANY") if name in HTTP_METHODS else None

    @property
    def allowed(self) -> list[str]:
        named = HTTP_METHODS if "ANY" in self.methods else {*self.methods, "OPTIONS"}
        return sorted(named)


def _resources() -> tuple[Resource, ...]:
    keyed = {"ANY": True}
    found: list[Resource] = []
    for root in MANAGEMENT_ROOTS:
        found.append(Resource(f"/{root}", API_FUNCTION, keyed))
        parent = f"/{root}"
        if root == "executions":
            parent = "/executions/{execution_id}"
            found += [Resource(parent, API_FUNCTION, keyed),
                      Resource(parent + "/resume/{wait_id}", API_FUNCTION, {"POST": False}),
                      Resource(parent + "/stream", STREAM, {"GET": True})]
        found.append(Resource(parent + "/{proxy+}", API_FUNCTION, keyed))
    found += [Resource("/openapi.json", API_FUNCTION, {"GET": True}),
              Resource(f"/{VIEWER_ROOT}", API_FUNCTION, {"GET": False}),
              Resource(f"/{VIEWER_ROOT}/{{proxy+}}", API_FUNCTION, {"GET": False}),
              Resource("/webhook/{proxy+}", WEBHOOKS_FUNCTION, {"ANY": False})]
    return tuple(found)


RESOURCES = _resources()


@dataclass(frozen=True)
class Match:
    resource: Resource
    parameters: dict[str, str]


class _Node:
    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.variable: tuple[str, _Node] | None = None
        self.greedy: tuple[str, Resource] | None = None
        self.resource: Resource | None = None

    def add(self, segments: list[str], resource: Resource) -> None:
        if not segments:
            self.resource = resource
            return
        head, rest = segments[0], segments[1:]
        if head.startswith("{") and head.endswith("+}"):
            self.greedy = (head[1:-2], resource)
        elif head.startswith("{") and head.endswith("}"):
            if self.variable is None:
                self.variable = (head[1:-1], _Node())
            self.variable[1].add(rest, resource)
        else:
            self.static.setdefault(head, _Node()).add(rest, resource)

    def match(self, segments: list[str], found: dict[str, str]) -> Match | None:
        if not segments:
            return Match(self.resource, found) if self.resource is not None else None
        head = segments[0]
        child = self.static.get(head)
        if child is not None:
            matched = child.match(segments[1:], found)
            if matched is not None:
                return matched
        if self.variable is not None and head:
            name, node = self.variable
            matched = node.match(segments[1:], found | {name: head})
            if matched is not None:
                return matched
        if self.greedy is not None and all(segments):
            name, resource = self.greedy
            return Match(resource, found | {name: "/".join(segments)})
        return None


def _tree(resources: tuple[Resource, ...]) -> _Node:
    root = _Node()
    for resource in resources:
        root.add(resource.path.strip("/").split("/"), resource)
    return root


_ROOT = _tree(RESOURCES)


def match(path: str) -> Match | None:
    """The resource a percent-decoded path reaches, with its path parameters; None when
    it reaches none. One trailing slash is ignored, as API Gateway ignores it."""
    if path.endswith("/") and path != "/":
        path = path[:-1]
    if not path.startswith("/") or path == "/":
        return None
    return _ROOT.match(path[1:].split("/"), {})
