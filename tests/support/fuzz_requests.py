"""Seeded hostile HTTP requests for every route of the API, and the check each answer must
pass (issue 11: no 5xx, a JSON ``{"error": ...}`` for every error, a Content-Type, fast).

``routes`` reads the route table from the API's own OpenAPI document (so a new route is
fuzzed without touching this file) and adds what is not in it: webhooks, the public resume
route and the local Server-Sent Events route. ``cases`` starts from one valid request per
route (``Target`` names the ids that exist) and mutates it: wrong methods, garbled and
encoded paths, odd query strings, bodies that are deep, huge-number, wrong-typed,
non-UTF-8, empty or oversized, and header variants. Same seed, same cases.

``send`` speaks HTTP/1.1 with ``http.client`` (any method, any bytes); ``verdict`` says what
is wrong with an answer, if anything, and whether it is a protocol-level failure of the
HTTP front end (no answer, an HTML page) rather than of a handler.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

Body = bytes | None
SLOW_SECONDS = 5.0  # an answer slower than this is a failure


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "/workflows/{workflow_id}/pins/{node}"
    query: tuple[str, ...] = ()  # the query parameters it declares
    public: bool = False  # needs no API key


@dataclass(frozen=True)
class Target:
    """Ids that exist on the server under test (a valid request names them)."""

    workflow: str
    execution: str
    node: str
    wait: str = "no-such-wait"
    sig: str = "x"
    webhook: str = "fuzz-hook"


@dataclass(frozen=True)
class Case:
    route: str  # "POST /workflows/{workflow_id}/executions"
    category: str  # valid | method | path | query | body | headers | protocol
    method: str
    path: str  # percent-encoded path (what goes on the request line)
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = None

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")


@dataclass
class Outcome:
    case: Case
    status: int | None
    content_type: str | None
    body: bytes
    seconds: float
    error: str | None = None  # no answer: the exception


# ------------------------------------------------------------------ routes


EXTRA_ROUTES = (
    Route("POST", "/webhook/{webhook}", public=True),
    Route("GET", "/webhook/{webhook}", public=True),
    Route("POST", "/executions/{execution_id}/resume/{wait_id}", ("sig",), public=True),
    Route("GET", "/executions/{execution_id}/stream", ("token",)),
)
SKIPPED = {("GET", "/executions/{execution_id}/stream")}  # SSE: answers until the run ends


def routes(openapi: dict[str, Any]) -> list[Route]:
    """Every route of the OpenAPI document, plus ``EXTRA_ROUTES``."""
    found = []
    for template, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            query = tuple(p["name"] for p in operation.get("parameters", [])
                          if p.get("in") == "query")
            found.append(Route(method.upper(), template, query))
    known = {(r.method, r.template) for r in found}
    found += [r for r in EXTRA_ROUTES if (r.method, r.template) not in known]
    return [r for r in found if (r.method, r.template) not in SKIPPED]


# ------------------------------------------------------------------ valid requests


def _document(name: str) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Shape", "type": "set", "parameters": {"values": {"ok": True}},
         "retry": {"maxAttempts": 1}}],
        "connections": [{"from": "Start", "to": "Shape"}]}


def valid_body(route: Route, target: Target) -> Any:
    """A body the route accepts (None: it takes none)."""
    method, template = route.method, route.template
    if method == "POST" and template == "/workflows":
        return _document("fuzz-new")
    if method == "PUT" and template == "/workflows/{workflow_id}":
        return _document(target.workflow)
    if template.endswith("/executions") and method == "POST":
        return {"input": {"a": 1}}
    if template.endswith("/pins/{node}") and method == "PUT":
        return {"items": [{"a": 1}]}
    if template.endswith("/rollback"):
        return {"version": 1}
    if template.endswith("/replay"):
        return {"input": None}
    if template == "/admin/prune":
        return {}
    if template == "/stream-tokens":
        return {"executionId": target.execution}
    if template.startswith("/webhook/") and method == "POST":
        return {"order": 1}
    if method in ("POST", "PUT", "PATCH") and "{wait_id}" in template:
        return {"ok": True}
    return None


def _fill(template: str, target: Target, values: dict[str, str] | None = None) -> str:
    ids = {"workflow_id": target.workflow, "execution_id": target.execution,
           "node": target.node, "wait_id": target.wait, "webhook": target.webhook}
    ids |= values or {}
    path = template
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value if values and name in values
                            else quote(value, safe=""))
    return path


def valid_case(route: Route, target: Target) -> Case:
    # DELETE /workflows/{id} of the target would delete what the other cases use
    values = {"workflow_id": "fuzz-absent"} if (route.method, route.template) == (
        "DELETE", "/workflows/{workflow_id}") else None
    body = valid_body(route, target)
    query = urlencode({"sig": target.sig}) if "sig" in route.query else ""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return Case(f"{route.method} {route.template}", "valid", route.method,
                _fill(route.template, target, values), query, headers,
                json.dumps(body).encode() if body is not None else None)


# ------------------------------------------------------------------ mutations


HOSTILE_SEGMENTS = ("%2F", "..", ".", "%2e%2e", "%00", "%C3%A9", "%F0%9F%98%80", "%FF",
                    "%20", "%5C", "%7Bx%7D", "%3Cscript%3E", "null", "true", "0", "-1",
                    "a" * 300, "a" * 1100, "%25", "%", "%E2%80%AE", "x%0Ay", "%C0%AF", "~",
                    "$", "'")
HOSTILE_VALUES = ("", "-1", "0", "1e308", "-1e308", "1.5", "nan", "inf", "9" * 5000,
                  "abc", "true", "%FF%FE", "%00", "%C3%A9%F0%9F%98%80", "eyJhIjoxfQ",
                  "a" * 2000, "[]", "{}", "%E2%80%AE", "2026-13-45T99:99:99Z", "%ED%A0%80")
QUERY_NAMES = ("limit", "cursor", "offset", "from", "to", "status", "workflowId", "wait",
               "timeout", "active", "runIndex", "after", "sig", "token", "", "%FF", "a[b]")
CONTENT_TYPES = (None, "text/plain", "application/octet-stream",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=utf-16", "application/JSON", "*/*",
                 "application/xml", "application/json;;;")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
PROTOCOL_METHODS = ("HEAD", "TRACE", "CONNECT", "FOO", "get")
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def _hostile_json(rng: random.Random) -> bytes:
    """One hostile JSON(ish) value: deep, huge-number, non-finite, unencodable, odd."""
    choice = rng.randrange(12)
    if choice == 0:
        depth = rng.choice((100, 1_000, 50_000))
        return ("[" * depth + "]" * depth).encode()
    if choice == 1:
        depth = rng.choice((65, 500))
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    if choice == 2:
        return ("9" * rng.choice((400, 4_301, 20_000))).encode()
    if choice == 3:
        return rng.choice((b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"))
    if choice == 4:
        return rng.choice((b'"\\ud800"', b'{"\\udfff": 1}', b'"\\u0000"'))
    if choice == 5:
        return rng.choice((b"[]", b'"text"', b"12", b"null", b"true", b"[1,2]"))
    if choice == 6:
        return b'{"a": 1, "a": 2}'
    if choice == 7:
        return b'{"input": ' + json.dumps("x" * 450_000).encode() + b"}"
    if choice == 8:
        return rng.choice((b"{", b'{"a":', b"}", b"\x00", b"{'a': 1}", b"[1,]"))
    if choice == 9:
        return "{\"é\": \"😀\u202e\"}".encode("utf-16")
    if choice == 10:
        return rng.choice((b"\xff\xfe\xfd", b'{"a": "\xc3\x28"}', b"\xc0\xaf", b"\x80"))
    return b""


NODE_FIELDS = ("name", "type", "parameters", "retry", "onError", "timeoutSeconds", "cache",
               "disabled", "notes", "extra")
ODD_VALUES = ("true", "null", "false", "²", "a\nb", "a" * 100, "States.X", "$", "{% $x %}",
              "{% " + "(" * 3000 + "1" + ")" * 3000 + " %}", "", " ", "é😀", "\u202e", "-1",
              "Start", "__proto__")


def _odd_node(rng: random.Random, document: dict[str, Any]) -> bytes:
    """The document with one field of one node set to an odd value: what validates must
    compile and deploy (a failing compile is a 500 of ``POST /workflows``)."""
    nodes = [dict(node) for node in document["nodes"]]
    node = rng.choice(nodes)
    key = rng.choice(NODE_FIELDS)
    node[key] = rng.choice([*ODD_VALUES, 0, -1, 10**30, 1.5, [], {}, None, True,
                            {"values": {rng.choice(ODD_VALUES): rng.choice(ODD_VALUES)}},
                            {"maxAttempts": 10**9}, {"ttlSeconds": -1}])
    if key == "name" and rng.random() < 0.5:  # rename it in the connections too
        old = next(n["name"] for n in document["nodes"] if n.get("type") == node.get("type"))
        document = document | {"connections": [
            {k: node[key] if v == old else v for k, v in c.items()}
            for c in document["connections"]]}
    return json.dumps(document | {"nodes": nodes}).encode()


def _wrong_typed(rng: random.Random, body: Any) -> bytes:
    """The valid body with one field set to a value of the wrong type."""
    if not isinstance(body, dict) or not body:
        return _hostile_json(rng)
    if isinstance(body.get("nodes"), list) and rng.random() < 0.6:
        return _odd_node(rng, body)
    key = rng.choice(sorted(body))
    value = rng.choice([[], {}, "s", 1e308, -1, 10**40, True, None, "é" * 50,
                        [[[[[]]]]], {"items": "x"}, "\u0000", 1.5])
    return json.dumps(body | {key: value}).encode()


def mutate(rng: random.Random, route: Route, base: Case, target: Target) -> Case:
    category = rng.choice(("method", "path", "path", "query", "query", "body", "body",
                           "body", "headers", "headers", "protocol"))
    if category == "method":
        method = rng.choice([m for m in METHODS if m != base.method])
        return replace(base, category=category, method=method)
    if category == "protocol":
        return replace(base, category=category, method=rng.choice(PROTOCOL_METHODS))
    if category == "path":
        names = [n for n in ("workflow_id", "execution_id", "node", "wait_id", "webhook")
                 if "{" + n + "}" in route.template]
        if not names or rng.random() < 0.2:
            path = rng.choice((base.path + "/", base.path.replace("/", "//", 1),
                               base.path + "/%2e%2e/x", base.path.upper(),
                               base.path + "%00", base.path + "/extra"))
            return replace(base, category=category, path=path)
        segment = rng.choice(HOSTILE_SEGMENTS)
        return replace(base, category=category,
                       path=_fill(route.template, target, {rng.choice(names): segment}))
    if category == "query":
        names = list(route.query) + list(QUERY_NAMES)
        pairs = [f"{rng.choice(names)}={rng.choice(HOSTILE_VALUES)}"
                 for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.2:
            pairs.append(rng.choice(("&&", "=", "a=1&a=2", "%", "x", "a=b=c")))
        return replace(base, category=category, query="&".join(filter(None, (
            base.query, *pairs))))
    if category == "body":
        body_value = json.loads(base.body) if base.body else None
        data = _wrong_typed(rng, body_value) if rng.random() < 0.4 else _hostile_json(rng)
        method = base.method if base.method != "GET" or rng.random() < 0.5 else "POST"
        return replace(base, category=category, method=method, body=data,
                       headers=base.headers | {"Content-Type": "application/json"})
    headers = dict(base.headers)
    variant = rng.randrange(6)
    if variant == 5:
        headers["x-api-key"] = rng.choice(("", "wrong", "é"))
    elif variant == 0:
        content_type = rng.choice(CONTENT_TYPES)
        headers.pop("Content-Type", None)
        if content_type is not None:
            headers["Content-Type"] = content_type
    elif variant == 1:
        headers["Idempotency-Key"] = rng.choice(("", "k" * 300, "é", "a b", "\t"))
    elif variant == 2:
        headers["Origin"] = rng.choice(("https://example.com", "null", "http://é"))
    elif variant == 3:
        headers["X-Sfnflow-Signature"] = rng.choice(("", "sha256=zz", "é" * 10, "x" * 500))
    else:
        headers["Accept"] = rng.choice(("text/html", "*/*", "application/xml", ""))
    return replace(base, category="headers", headers=headers,
                   body=base.body if base.body is not None or rng.random() < 0.5
                   else _hostile_json(rng))


def cases(route_table: list[Route], target: Target, count: int,
          seed: int = 11) -> Iterator[Case]:
    """``count`` cases: each route's valid request first, then mutants, round-robin."""
    rng = random.Random(seed)
    bases = [(route, valid_case(route, target)) for route in route_table]
    for index in range(count):
        route, base = bases[index % len(bases)]
        yield base if index < len(bases) else mutate(rng, route, base, target)


# ------------------------------------------------------------------ sending and judging


def send(url: str, case: Case, api_key: str | None, timeout: float = 30.0) -> Outcome:
    parts = urlsplit(url)
    headers = dict(case.headers)
    if api_key is not None:
        headers.setdefault("x-api-key", api_key)
    started = time.monotonic()
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=timeout)
    try:
        connection.putrequest(case.method, case.target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value.encode("utf-8"))
        body = case.body or b""
        if body or case.method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read() if case.method != "HEAD" else b""
        return Outcome(case, response.status, response.getheader("Content-Type"), data,
                       time.monotonic() - started)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(case, None, None, b"", time.monotonic() - started,
                       f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def _json_error(outcome: Outcome) -> bool:
    try:
        parsed = json.loads(outcome.body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("error"), dict)


def verdict(outcome: Outcome, slow: float = SLOW_SECONDS) -> tuple[str, str] | None:
    """None when the answer is fine, else (kind, what): kind ``protocol`` for a failure of
    the HTTP front end (no answer, a non-JSON page), ``handler`` for everything else."""
    if outcome.status is None:
        return "protocol", f"no response ({outcome.error})"
    json_type = (outcome.content_type or "").startswith("application/json")
    if outcome.status >= 400 and not json_type:
        return "protocol", f"{outcome.status} answered as {outcome.content_type!r}"
    if outcome.status == 501 and outcome.case.method not in KNOWN_METHODS:
        return None  # a method API Gateway has no resource method for (JSON, checked above)
    if outcome.status >= 500:
        return "handler", f"{outcome.status}: {outcome.body[:200]!r}"
    if not outcome.content_type:
        return "handler", f"{outcome.status} without a Content-Type"
    if outcome.status >= 400 and outcome.case.method != "HEAD" and not _json_error(outcome):
        return "handler", f"{outcome.status} body is not {{\"error\": ...}}"
    if outcome.seconds > slow:
        return "handler", f"took {outcome.seconds:.1f} s"
    return None


HOOK = {"name": "fuzz-hook", "nodes": [
    {"name": "Hook", "type": "webhook", "parameters": {"path": "fuzz-hook"}},
    {"name": "Shape", "type": "set", "parameters": {"values": {"ok": True}}}],
    "connections": [{"from": "Hook", "to": "Shape"}]}


def prepare(url: str, api_key: str) -> tuple[Target, list[Route]]:
    """Deploy what valid requests name (a workflow ``fuzz`` with a pinnable node, a webhook
    ``fuzz-hook``), start one execution; the target and the route table."""
    import requests

    session = requests.Session()
    session.headers["x-api-key"] = api_key
    for document in (_document("fuzz"), HOOK):
        created = session.post(url + "/workflows", json=document, timeout=30)
        if created.status_code != 201:
            raise RuntimeError(f"deploying {document['name']}: {created.text}")
    started = session.post(url + "/workflows/fuzz/executions", json={"input": {"a": 1}},
                           timeout=30)
    if started.status_code != 202:
        raise RuntimeError(f"starting fuzz: {started.text}")
    table = routes(session.get(url + "/openapi.json", timeout=30).json())
    return Target("fuzz", started.json()["executionId"], "Shape"), table


def run(url: str, api_key: str, route_table: list[Route], target: Target, count: int,
        seed: int = 11, on_outcome: Callable[[Outcome], None] | None = None,
        ) -> list[Outcome]:
    outcomes = []
    for case in cases(route_table, target, count, seed):
        outcome = send(url, case, api_key)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
