"""Record ``peer_crypto.json`` (Crypto v1 cases) from n8n's real engine (not a test).

``python tests/functions/n8n/record_peer_crypto.py /path/to/peer``: each case is manual
trigger -> testData (two items) -> one Crypto node; its output items or the run's error go
to ``peer_crypto.json``, which the tests read (they never need the peer).
"""

import json
import subprocess
import sys
from pathlib import Path

PEER = Path(sys.argv[1]) / "run-n8n.js"
HERE = Path(__file__).parent
CASES = {
    "md5_default": {"value": "={{ $json.s }}"},
    "sha256_base64": {
        "type": "SHA256",
        "value": "={{ $json.s }}",
        "encoding": "base64",
        "dataPropertyName": "h",
    },
    "sha512": {"type": "SHA512", "value": "abc"},
    "sha384": {"type": "SHA384", "value": "abc"},
    "sha3_256": {"type": "SHA3-256", "value": "abc"},
    "sha3_512_b64": {"type": "SHA3-512", "value": "abc", "encoding": "base64"},
    "hmac_sha256": {"action": "hmac", "type": "SHA256", "value": "={{ $json.s }}", "secret": "key"},
    "hmac_md5_b64": {"action": "hmac", "value": "msg", "secret": "k", "encoding": "base64"},
    "dotted": {"value": "x", "dataPropertyName": "k.h"},
    "dotted_over_scalar": {"value": "x", "dataPropertyName": "s.h"},
}
out = {}
for name, params in CASES.items():
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
                "parameters": {"data": [{"s": "héllo", "k": {"x": 1}}, {"s": "b", "k": {}}]},
                "position": [1, 0],
            },
            {
                "name": "C",
                "type": "n8n-nodes-base.crypto",
                "typeVersion": 1,
                "parameters": params,
                "position": [2, 0],
            },
        ],
        "connections": {
            "T": {"main": [[{"node": "D", "type": "main", "index": 0}]]},
            "D": {"main": [[{"node": "C", "type": "main", "index": 0}]]},
        },
    }
    Path("wfc.json").write_text(json.dumps(wf))
    r = json.loads(
        subprocess.run(["node", str(PEER), "wfc.json"], capture_output=True, text=True).stdout
    )
    out[name] = {
        "parameters": params,
        "items": r["nodes"]["C"].get("items"),
        "error": r.get("error"),
    }
    print(name, json.dumps(out[name]["items"] or out[name]["error"])[:300])
(HERE / "peer_crypto.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
