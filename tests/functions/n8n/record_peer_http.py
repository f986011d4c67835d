"""Record ``peer_http.json`` (HTTP Request cases) from n8n's real engine (not a test).

Start ``python tests/functions/n8n/http_server.py`` (port 18765), then run
``python tests/functions/n8n/record_peer_http.py /path/to/peer [case...]``: each case is
manual trigger -> testData ({n: 1}, {n: 2}) -> one HTTP Request node; its output items or
the run's error go to ``peer_http.json``, which the tests read (they never need the peer).
"""

import json
import subprocess
import sys
from pathlib import Path

U = "http://127.0.0.1:18765"
CASES = {
    "get_query_headers": (
        4.2,
        {
            "method": "GET",
            "url": "=" + U + "/echo?x=1",
            "sendQuery": True,
            "queryParameters": {
                "parameters": [
                    {"name": "a", "value": "={{ $json.n }}"},
                    {"name": "b", "value": "two words"},
                ]
            },
            "sendHeaders": True,
            "headerParameters": {"parameters": [{"name": "X-Token", "value": "t"}]},
            "options": {},
        },
    ),
    "repeat_q_43": (
        4.3,
        {
            "url": U + "/echo",
            "sendQuery": True,
            "queryParameters": {
                "parameters": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]
            },
            "options": {},
        },
    ),
    "repeat_q_42": (
        4.2,
        {
            "url": U + "/echo",
            "sendQuery": True,
            "queryParameters": {
                "parameters": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]
            },
            "options": {},
        },
    ),
    "json_query": (
        4.2,
        {
            "url": U + "/echo",
            "sendQuery": True,
            "specifyQuery": "json",
            "jsonQuery": '{"q": "x y", "n": 3}',
            "options": {},
        },
    ),
    "json_headers": (
        4.2,
        {
            "url": U + "/echo",
            "sendHeaders": True,
            "specifyHeaders": "json",
            "jsonHeaders": '{"X-Token": "j"}',
            "options": {},
        },
    ),
    "post_keypair": (
        4.2,
        {
            "method": "POST",
            "url": U + "/echo",
            "sendBody": True,
            "bodyParameters": {
                "parameters": [
                    {"name": "a.b", "value": "={{ $json.n }}"},
                    {"name": "c", "value": "x"},
                ]
            },
            "options": {},
        },
    ),
    "post_keypair_v3": (
        3,
        {
            "method": "POST",
            "url": U + "/echo",
            "sendBody": True,
            "bodyParameters": {"parameters": [{"name": "a.b", "value": "1"}]},
            "options": {},
        },
    ),
    "post_json": (
        4.2,
        {
            "method": "POST",
            "url": U + "/echo",
            "sendBody": True,
            "specifyBody": "json",
            "jsonBody": '={ "n": {{ $json.n }}, "s": "é" }',
            "options": {},
        },
    ),
    "post_form": (
        4.2,
        {
            "method": "POST",
            "url": U + "/echo",
            "sendBody": True,
            "contentType": "form-urlencoded",
            "bodyParameters": {
                "parameters": [{"name": "a", "value": "1 2"}, {"name": "b", "value": "&"}]
            },
            "options": {},
        },
    ),
    "post_form_string": (
        4.2,
        {
            "method": "POST",
            "url": U + "/echo",
            "sendBody": True,
            "contentType": "form-urlencoded",
            "specifyBody": "string",
            "body": "a=1&b=x+y",
            "options": {},
        },
    ),
    "put_raw": (
        4.2,
        {
            "method": "PUT",
            "url": U + "/echo",
            "sendBody": True,
            "contentType": "raw",
            "rawContentType": "text/csv",
            "body": "a,b\n1,2",
            "options": {},
        },
    ),
    "text": (4.2, {"url": U + "/text", "options": {}}),
    "text_full": (
        4.2,
        {"url": U + "/text", "options": {"response": {"response": {"fullResponse": True}}}},
    ),
    "list": (4.2, {"url": U + "/list", "options": {}}),
    "null": (4.2, {"url": U + "/null", "options": {}}),
    "jsontext_auto": (4.2, {"url": U + "/jsontext", "options": {}}),
    "jsontext_text": (
        4.2,
        {"url": U + "/jsontext", "options": {"response": {"response": {"responseFormat": "text"}}}},
    ),
    "jsontext_json": (
        4.2,
        {"url": U + "/jsontext", "options": {"response": {"response": {"responseFormat": "json"}}}},
    ),
    "text_json": (
        4.2,
        {"url": U + "/text", "options": {"response": {"response": {"responseFormat": "json"}}}},
    ),
    "list_text_prop": (
        4.2,
        {
            "url": U + "/list",
            "options": {
                "response": {"response": {"responseFormat": "text", "outputPropertyName": "out"}}
            },
        },
    ),
    "full_json": (
        4.2,
        {"url": U + "/list", "options": {"response": {"response": {"fullResponse": True}}}},
    ),
    "status_404": (4.2, {"url": U + "/status/404", "options": {}}),
    "never_error": (
        4.2,
        {"url": U + "/status/500", "options": {"response": {"response": {"neverError": True}}}},
    ),
    "never_error_full": (
        4.2,
        {
            "url": U + "/status/404",
            "options": {"response": {"response": {"neverError": True, "fullResponse": True}}},
        },
    ),
    "badjson": (4.2, {"url": U + "/badjson", "options": {}}),
    "badjson_never": (
        4.2,
        {"url": U + "/badjson", "options": {"response": {"response": {"neverError": True}}}},
    ),
    "timeout": (4.2, {"url": U + "/slow", "options": {"timeout": 100}}),
    "bad_url": (4.2, {"url": "ftp://x", "options": {}}),
    "v3_get": (3, {"url": U + "/echo", "options": {}}),
}
out = {}
PEER = Path(sys.argv[1]) / "run-n8n.js"
HERE = Path(__file__).parent
only = sys.argv[2:]
for name, (version, params) in CASES.items():
    if only and name not in only:
        continue
    wf = {
        "name": "w",
        "settings": {"executionOrder": "v1"},
        "nodes": [
            {
                "name": "T",
                "type": "n8n-nodes-base.manualTrigger",
                "typeVersion": 1,
                "parameters": {},
                "position": [0, 0],
            },
            {
                "name": "D",
                "type": "n8n-nodes-testing.testData",
                "typeVersion": 1,
                "parameters": {"data": [{"n": 1}, {"n": 2}]},
                "position": [1, 0],
            },
            {
                "name": "H",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": version,
                "parameters": params,
                "position": [2, 0],
            },
        ],
        "connections": {
            "T": {"main": [[{"node": "D", "type": "main", "index": 0}]]},
            "D": {"main": [[{"node": "H", "type": "main", "index": 0}]]},
        },
    }
    Path("wf.json").write_text(json.dumps(wf))
    r = json.loads(
        subprocess.run(["node", str(PEER), "wf.json"], capture_output=True, text=True).stdout
    )
    h = r["nodes"].get("H", {})
    out[name] = {
        "version": version,
        "parameters": params,
        "items": h.get("items"),
        "error": r.get("error"),
    }
    print(name, json.dumps(out[name]["items"] or out[name]["error"])[:400])
(HERE / "peer_http.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
