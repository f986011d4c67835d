"""Record ``peer_triggers.json`` from n8n's real engine (not a test).

``python tests/functions/n8n/record_peer_triggers.py /path/to/peer``: each case starts at an
Execute Workflow Trigger fed ``INPUT`` (as a parent workflow would), optionally followed by
a Respond to Webhook v1 (which passes its items through); the output items of every node
go to ``peer_triggers.json``, which the tests read (they never need the peer). The Webhook
and Schedule Trigger items cannot be produced this way (the peer has no HTTP server and
no clock to fix): their shapes come from n8n's source, cited in functions/n8n/triggers.py.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PEER = Path(sys.argv[1]) / "run-n8n.js"
HERE = Path(__file__).parent
INPUT = [{"json": {"a": 1, "b": {"c": 2}}}, {"json": {"b": 3}}]
TRIGGER = "n8n-nodes-base.executeWorkflowTrigger"
CASES = {
    "v1_passthrough": (1, {}),
    "v1_1_passthrough": (1.1, {"inputSource": "passthrough"}),
    "v1_1_workflow_inputs": (1.1, {"workflowInputs": {"values": [
        {"name": "a"}, {"name": "z", "type": "number"}]}}),
}
out = {}
for name, (version, parameters) in CASES.items():
    nodes = [{"name": "T", "type": TRIGGER, "typeVersion": version, "parameters": parameters,
              "position": [0, 0]},
             {"name": "R", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1,
              "parameters": {"respondWith": "allIncomingItems"}, "position": [1, 0]}]
    workflow = {"name": name, "settings": {"executionOrder": "v1"}, "nodes": nodes,
                "connections": {"T": {"main": [[{"node": "R", "type": "main", "index": 0}]]}}}
    with tempfile.TemporaryDirectory() as folder:
        path, items = Path(folder) / "w.json", Path(folder) / "in.json"
        path.write_text(json.dumps(workflow))
        items.write_text(json.dumps(INPUT))
        result = json.loads(subprocess.run(["node", str(PEER), str(path), str(items)],
                                           capture_output=True, text=True, check=True).stdout)
    out[name] = {"version": version, "parameters": parameters, "input": INPUT,
                 "trigger": result["nodes"]["T"]["items"], "respond": result["nodes"]["R"]["items"],
                 "error": result["error"]}
(HERE / "peer_triggers.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
