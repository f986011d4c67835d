"""n8n node types in the catalogue: ports in n8n's order, per typeVersion and parameters."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.n8n.catalogue import N8N_TYPES
from compiler.nodetypes import NODE_TYPES, N8nParams, output_names

BASE = "n8n-nodes-base."


def outputs(node_type: str, version: float, parameters: dict[str, Any] | None = None,
            on_error: str = "stopWorkflow") -> list[str]:
    params = N8nParams(typeVersion=version, parameters=parameters or {})
    return output_names(BASE + node_type, params, on_error)


@pytest.mark.parametrize(("version", "expected"), [
    (1, ["main"]), (2, ["loop", "done"]), (2.1, ["loop", "done"]), (3, ["done", "loop"])])
def test_split_in_batches_ports_follow_the_version(version: float,
                                                   expected: list[str]) -> None:
    assert N8N_TYPES[BASE + "splitInBatches"].outputs(version, {}) == expected


def test_if_is_true_then_false_and_filter_v2_has_discarded() -> None:
    assert outputs("if", 2) == ["true", "false"]
    assert outputs("filter", 1) == ["kept"]
    assert outputs("filter", 2) == ["kept", "discarded"]


def test_switch_ports_per_rule_mode_and_version() -> None:
    rules = {"rules": {"values": [{"outputKey": "a", "renameOutput": True}, {}]},
             "options": {"fallbackOutput": "extra"}}
    assert outputs("switch", 3, rules) == ["a", "1", "fallback"]
    assert outputs("switch", 1) == ["0", "1", "2", "3"]
    assert outputs("switch", 3, {"mode": "expression", "numberOutputs": 2}) == ["0", "1"]
    legacy = {"rules": {"rules": [{"output": 0}, {"output": 2}]}, "fallbackOutput": 3}
    assert outputs("switch", 2, legacy) == ["0", "1", "2", "3"]


def test_merge_inputs_come_from_number_inputs_from_v3() -> None:
    merge = NODE_TYPES[BASE + "merge"]
    assert merge.inputs(N8nParams(typeVersion=3, parameters={"numberInputs": 4})) == 4
    assert merge.inputs(N8nParams(typeVersion=2.1, parameters={"numberInputs": 4})) == 2


def test_continue_error_output_adds_the_error_port() -> None:
    assert outputs("set", 3.4, on_error="continueErrorOutput") == ["main", "error"]


def test_n8n_types_run_on_the_node_runner_but_loops_waits_and_the_native_four() -> None:
    lowerings = {name: spec.lowering for name, spec in NODE_TYPES.items() if spec.n8n}
    assert lowerings.pop(BASE + "splitInBatches") == "loop"
    assert lowerings.pop(BASE + "wait") == "wait"  # a native Wait state
    for name in ("set", "if", "filter", "switch"):  # native where exact, else the runner
        assert lowerings.pop(BASE + name) == "native"
    assert lowerings and set(lowerings.values()) == {"task"}


def test_stop_and_error_v1_has_no_output_as_n8n_draws_it() -> None:
    assert N8N_TYPES[BASE + "stopAndError"].versions == frozenset({1.0})
    assert outputs("stopAndError", 1) == []


def test_http_request_v3_and_v4_run_on_the_node_runner_with_one_output() -> None:
    spec = N8N_TYPES[BASE + "httpRequest"]
    assert {3.0, 4.0, 4.1, 4.2, 4.3} <= spec.versions
    assert outputs("httpRequest", 4.2) == ["main"]
    assert spec.lowering == "task"


def test_crypto_v1_is_catalogued_with_one_output() -> None:
    assert N8N_TYPES[BASE + "crypto"].versions == frozenset({1.0})
    assert outputs("crypto", 1) == ["main"]
