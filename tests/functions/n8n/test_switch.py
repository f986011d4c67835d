"""Switch v3 output naming (functions.n8n.switch.output_names)."""

from __future__ import annotations

from functions.n8n.call import NodeCall
from functions.n8n.switch import output_names


def test_renamed_rules_and_the_fallback_output() -> None:
    rules = {"values": [{"renameOutput": True, "outputKey": "big"}, {"conditions": {}}]}
    call = NodeCall(node="S", type_version=3, parameters={
        "rules": rules, "options": {"fallbackOutput": "extra", "renameFallbackOutput": "rest"}})
    assert output_names(call) == ["big", "1", "rest"]
