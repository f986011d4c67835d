"""Record ``peer_http_errors.json``: n8n's error items of HTTP Request with continueOnFail
(not a test). ``python tests/functions/n8n/record_peer_http_errors.py /path/to/peer``
serves ``http_server`` on port 18765 itself; each case is manual trigger -> testData (one
item) -> HTTP Request; the output items, without n8n's JavaScript ``stack``, go to the
fixture ``test_http_errors.py`` reads (the tests never need the peer).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[3]))
from tests.functions.n8n.http_server import serve  # noqa: E402

PEER = Path(sys.argv[1]) / "run-n8n.js"
HERE = Path(__file__).parent
U = "http://127.0.0.1:18765"
# name: (typeVersion, parameters, node flags)
CASES = {
    "status_404": (4.2, {"url": U + "/status/404"}, {"continueOnFail": True}),
    "status_500": (4.2, {"url": U + "/status/500"}, {"continueOnFail": True}),
    "status_429": (4.2, {"url": U + "/status/429"}, {"continueOnFail": True}),
    "v3_status_404": (3, {"url": U + "/status/404"}, {"continueOnFail": True}),
    "refused": (4.2, {"url": "http://127.0.0.1:1/x"}, {"continueOnFail": True}),
    "timeout": (4.2, {"url": U + "/slow", "options": {"timeout": 100}},
                {"continueOnFail": True}),
    "bad_json": (4.2, {"url": U + "/badjson"}, {"continueOnFail": True}),
    "error_output": (4.2, {"url": U + "/status/404"}, {"onError": "continueErrorOutput"}),
}


def without_stack(items: list) -> list:
    for port in items or []:
        for item in port:
            if isinstance(item.get("error"), dict):
                item["error"].pop("stack", None)
    return items


serve(18765)
out = {}
with tempfile.TemporaryDirectory() as scratch:
    path = Path(scratch) / "wf.json"
    for name, (version, parameters, flags) in CASES.items():
        node = {"name": "H", "type": "n8n-nodes-base.httpRequest", "typeVersion": version,
                "parameters": {"options": {}, **parameters}, "position": [2, 0], **flags}
        path.write_text(json.dumps({
            "name": "w", "settings": {"executionOrder": "v1"},
            "nodes": [
                {"name": "T", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                 "parameters": {}, "position": [0, 0]},
                {"name": "D", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
                 "parameters": {"data": [{"n": 1}]}, "position": [1, 0]}, node],
            "connections": {"T": {"main": [[{"node": "D", "type": "main", "index": 0}]]},
                            "D": {"main": [[{"node": "H", "type": "main", "index": 0}]]}}}))
        result = json.loads(subprocess.run(["node", str(PEER), str(path)], capture_output=True,
                                           text=True, check=False).stdout)
        out[name] = {"version": version, "parameters": parameters, "flags": flags,
                     "items": without_stack(result["nodes"]["H"]["items"])}
        print(name, json.dumps(out[name]["items"])[:300])
(HERE / "peer_http_errors.json").write_text(json.dumps(out, indent=1) + "\n")
