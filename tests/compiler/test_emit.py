"""The emit pass: invariants of the ASL every workflow compiles to, and golden definitions.

``check_definition`` is the one checker: every test here (and the golden cases in
``golden/``, one ``<case>.yaml`` workflow with its ``<case>.json`` expected definition) runs
it. To regenerate the golden files after an intended change, run with
``SFNFLOW_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import CompiledWorkflow, WorkflowInvalid, compile_workflow, load_file
from compiler.expressions import parse
from compiler.lowering import native
from compiler.lowering.task import NODE_RUNNER, RETRYABLE_ERRORS, SERVICE_RETRIERS
from compiler.model import HELPER_PREFIX, NAME_MAX
from compiler.nodetypes import NODE_TYPES
from local import aws_rules
from tests.compiler.random_dags import random_branching_workflow

GOLDEN = Path(__file__).with_name("golden")
GOLDEN_CASES = sorted(GOLDEN.glob("*.yaml"))

Json = Any
Path_ = tuple[str | int, ...]

# Arguments fields whose value the compiler itself writes as JSONata; anything else in
# Arguments is user data and must never reach Step Functions as a '{% ... %}' string.
COMPILER_EXPRESSION_FIELDS = frozenset(
    {"execution", "data", "attempt", "pinned", "reuseFrom", "skipped", "trigger",
     "runIndex", "outputRefs", "rendezvous"})
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FUNCTION_CALL = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*\(")


# --------------------------------------------------------------------------- the checker


def _strings(value: Json, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _is_jsonata(text: str) -> bool:
    return text.startswith("{%") and text.endswith("%}")


def scopes(definition: Json) -> Iterator[Json]:
    """The machine's top-level scope, every Parallel branch and Map item processor."""
    pending = [definition]
    while pending:
        scope = pending.pop()
        yield scope
        for state in scope["States"].values():
            pending.extend(state.get("Branches", []))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])


def _transitions(state: Json) -> list[str]:
    targets = [state["Next"]] if "Next" in state else []
    if state["Type"] == "Choice":
        targets += [state["Default"], *(rule["Next"] for rule in state["Choices"])]
    targets += [catcher["Next"] for catcher in state.get("Catch", [])]
    return targets


def _check_scope(scope: Json) -> None:
    states = scope["States"]
    assert scope["StartAt"] in states
    for name, state in states.items():
        if state["Type"] == "Choice":
            assert "Next" not in state and "End" not in state, name
            assert state["Choices"] and state["Default"], name
        elif state["Type"] in ("Fail", "Succeed"):
            assert "Next" not in state and "End" not in state, name
        else:
            assert ("Next" in state) != (state.get("End") is True), f"{name}: Next xor End"
        for target in _transitions(state):
            assert target in states, f"{name} -> {target!r} does not resolve in its scope"
    reached, pending = set(), [scope["StartAt"]]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(_transitions(states[name]))
    assert reached == set(states), f"unreachable states: {set(states) - reached}"


def _check_retry(node: Json, state: Json) -> None:
    service = [retrier.to_dict() for retrier in SERVICE_RETRIERS]  # tests/compiler/test_retry.py
    policy = node.retry
    if policy is None or policy.maxAttempts == 1:
        assert state["Retry"] == service, node.name
        return
    expected = {
        "ErrorEquals": list(policy.errors or RETRYABLE_ERRORS),
        "IntervalSeconds": policy.intervalSeconds,
        "MaxAttempts": policy.maxAttempts - 1,  # ASL counts retries, sfnflow attempts
        "BackoffRate": policy.backoffRate,
    }
    if policy.maxDelaySeconds is not None:
        expected["MaxDelaySeconds"] = policy.maxDelaySeconds
    if policy.jitter:
        expected["JitterStrategy"] = "FULL"
    assert state["Retry"] == [*service, expected], node.name


def _check_task(compiled: CompiledWorkflow, index: int, state: Json) -> None:
    graph = compiled.graph
    node = graph.nodes[index]
    variable = _variable_in(compiled, node.name, state)
    assert state["Type"] == "Task" and state["Resource"] == NODE_RUNNER, node.name
    arguments = state["Arguments"]
    assert arguments["workflow"] == graph.workflow.name
    assert arguments["node"]["name"] == node.name and arguments["node"]["type"] == node.type
    assert arguments["node"]["onError"] == node.onError
    assert arguments["node"]["outputs"] == graph.outputs[index]
    # Parameters travel as one JSON string: SFN never evaluates a user's expression.
    encoded = arguments["node"]["parameters"]
    assert isinstance(encoded, str) and not _is_jsonata(encoded), node.name
    assert json.loads(encoded) == node.parameters, node.name
    for path, text in _strings(arguments):
        if _is_jsonata(text):
            assert path[0] in COMPILER_EXPRESSION_FIELDS, (
                f"{node.name}: user data at Arguments.{'.'.join(map(str, path))} "
                f"would be evaluated by Step Functions: {text!r}"
            )
    assert ("trigger" in arguments) == graph.is_trigger(index)
    assert len(arguments["inputs"]) == graph.inputs[index]
    assert state["Assign"] == {variable: "{% $states.result %}"}, node.name
    _check_retry(node, state)
    in_region = any(node.name in region.nodes for region in graph.workflow.regions)
    if node.onError == "stopWorkflow" and not in_region:
        assert "Catch" not in state, node.name
    elif node.onError == "stopWorkflow":  # re-raised naming the node (compiler.lowering.region)
        (catcher,) = state["Catch"]
        assert catcher["Next"].startswith("#failed"), node.name
    else:
        (catcher,) = state["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"], node.name


def _check_wait(compiled: CompiledWorkflow, index: int, state: Json) -> None:
    node = compiled.graph.nodes[index]
    assert state["Type"] == "Wait", node.name
    seconds = state["Seconds"]
    assert (isinstance(seconds, int) and seconds >= 0) or _is_jsonata(seconds), node.name
    variable = _variable_in(compiled, node.name, state)
    (run,) = set(state["Assign"]) - {variable}  # the run record (compiler.lowering.native)
    assert run.startswith(f"{variable}_run"), node.name


def _variable_in(compiled: CompiledWorkflow, node: str, state: Json) -> str:
    """The variable a node's state assigns: the manifest's name in the machine's own scope,
    that name with its branch's suffix in a Parallel branch (compiler.passes.emit)."""
    variable = compiled.manifest["nodes"][node]["variable"]
    scoped = re.compile(re.escape(variable) + r"_b\d+(_\d+)?")
    (assigned,) = [name for name in state.get("Assign") or {variable: None}
                   if name == variable or scoped.fullmatch(name)]
    return assigned


def _check_native(compiled: CompiledWorkflow, index: int, state: Json) -> None:
    """A natively lowered node: one Pass assigning its outputs and run record, or (for
    stopAndError) a Fail behind a Choice that skips it when there are no input items."""
    node = compiled.graph.nodes[index]
    assert native.fallback_reason(compiled.graph, index) is None, node.name
    assert native.node_type_of(state) == node.type, node.name
    if node.type == "stopAndError":
        assert state["Type"] == "Fail" and state["Error"] == node.parameters.get(
            "errorType", "Sfnflow.StoppedByNode"), node.name
        return
    assert state["Type"] == "Pass", node.name
    variable = _variable_in(compiled, node.name, state)
    (run,) = set(state["Assign"]) - {variable}
    assert run.startswith(f"{variable}_run"), node.name
    assert all(_is_jsonata(value) for value in state["Assign"].values()), node.name


# Invariants a known compiler bug breaks; a test may tolerate them so that it still checks
# everything else (each has a strict xfail test below that flips when the bug is fixed).
CAUGHT_PASS_READS_ERROR_OUTPUT = "caught-pass-reads-errorOutput"


def check_definition(compiled: CompiledWorkflow, tolerate: frozenset[str] = frozenset()) -> None:
    """Every invariant the emitted ASL must hold, whatever the workflow."""
    definition, graph = compiled.definition, compiled.graph
    assert definition["QueryLanguage"] == "JSONata"
    assert definition["Comment"] == f"sfnflow workflow {graph.workflow.name}"
    assert definition.get("TimeoutSeconds") == graph.workflow.settings.timeoutSeconds

    states: dict[str, Json] = {}
    for scope in scopes(definition):
        _check_scope(scope)
        for name, state in scope["States"].items():
            assert name not in states, f"state name {name!r} used twice in the machine"
            states[name] = state
    for name in states:
        assert len(name) <= NAME_MAX, name
    node_names = [node.name for node in graph.nodes]
    assert set(node_names) <= set(states), set(node_names) - set(states)
    for name in set(states) - set(node_names):
        assert name.startswith(HELPER_PREFIX), f"helper state {name!r} lacks the prefix"

    for index, node in enumerate(graph.nodes):
        assert compiled.manifest["nodes"][node.name]["state"] == node.name
        state = states[node.name]
        if node.type == "wait" and state["Type"] == "Wait":  # else it pauses: a Task
            _check_wait(compiled, index, state)
        elif NODE_TYPES[node.type].lowering == "native" and state["Type"] != "Task":
            _check_native(compiled, index, state)
        elif NODE_TYPES[node.type].lowering == "loop":
            assert state["Type"] == "Map", node.name
        elif state["Type"] == "Task" and state["Resource"] == NODE_RUNNER:
            _check_task(compiled, index, state)

    for path, text in _strings(definition):
        if _is_jsonata(text):
            parse(text[2:-2].strip())  # raises on bad syntax
        if "$states.errorOutput" in text and CAUGHT_PASS_READS_ERROR_OUTPUT not in tolerate:
            assert "Catch" in path, f"$states.errorOutput outside a Catch at {path}"
    assigned: set[str] = set()
    for _path, value in _assignments(definition):
        for variable in value:
            assert VARIABLE_NAME.match(variable) and variable != "states", variable
            assigned.add(variable)
    called = {
        name for _path, text in _strings(definition) for name in FUNCTION_CALL.findall(text)
    }
    shadowed = called & assigned
    assert not shadowed, f"variables shadow the JSONata functions they call: {shadowed}"
    assert not aws_rules.definition_problems(definition)  # variable scopes, name lengths


def _assignments(value: Json, path: Path_ = ()) -> Iterator[tuple[Path_, dict[str, Json]]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Assign":
                yield path, item
            else:
                yield from _assignments(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _assignments(item, (*path, index))


# --------------------------------------------------------------------------- workflows

TRIGGER = {"name": "Start", "type": "manualTrigger"}


def chain(*nodes: dict[str, Any], name: str = "chain", **extra: Any) -> dict[str, Any]:
    """Start -> nodes[0] -> nodes[1] -> ..."""
    names = ["Start", *(node["name"] for node in nodes)]
    connections = [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)]
    return {"name": name, "nodes": [TRIGGER, *nodes], "connections": connections, **extra}


def if_workflow() -> dict[str, Any]:
    return {
        "name": "if-both",
        "nodes": [
            TRIGGER,
            {"name": "Check", "type": "if", "parameters": {"condition": "{% $json.ok %}"}},
            {"name": "Yes", "type": "set", "parameters": {"values": {"a": "{% $json.a %}"}}},
            {"name": "No", "type": "noOp"},
            {"name": "Join", "type": "merge"},
        ],
        "connections": [
            {"from": "Start", "to": "Check"},
            {"from": "Check", "to": "Yes", "output": "true"},
            {"from": "Check", "to": "No", "output": "false"},
            {"from": "Yes", "to": "Join"},
            {"from": "No", "to": "Join", "input": 1},
        ],
    }


def error_output_workflow() -> dict[str, Any]:
    return {
        "name": "error-output",
        "nodes": [
            TRIGGER,
            {"name": "Fetch", "type": "httpRequest", "onError": "continueErrorOutput",
             "parameters": {"url": "https://example.com/{% $json.id %}"}},
            {"name": "Use", "type": "noOp"},
            {"name": "Report", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "Fetch"},
            {"from": "Fetch", "to": "Use"},
            {"from": "Fetch", "to": "Report", "output": "error"},
        ],
    }


def _long(prefix: str) -> str:
    return (prefix * NAME_MAX)[: NAME_MAX - 2] + prefix[:2]


CASES: dict[str, dict[str, Any]] = {
    "trigger-only": {"name": "solo", "nodes": [TRIGGER]},
    "chain": chain({"name": "A", "type": "noOp"}, {"name": "B", "type": "noOp"}),
    "if-both": if_workflow(),
    "error-output": error_output_workflow(),
    "continue-regular": chain(
        {"name": "Risky", "type": "code", "parameters": {"code": "return items"},
         "onError": "continueRegularOutput"},
        {"name": "After", "type": "noOp"},
    ),
    "wait": chain({"name": "Pause", "type": "wait", "parameters": {"seconds": 5}},
                  {"name": "Later", "type": "wait",
                   "parameters": {"seconds": "{% $json.delay %}"}},
                  settings={"timeoutSeconds": 3600}),
    "retries": chain(
        {"name": "Defaults", "type": "noOp", "retry": {}},
        {"name": "Once", "type": "noOp", "retry": {"maxAttempts": 1}},
        {"name": "Custom", "type": "noOp",
         "retry": {"maxAttempts": 5, "intervalSeconds": 3, "backoffRate": 1.5,
                   "maxDelaySeconds": 60, "jitter": True, "errors": ["Custom.Flaky"]}},
    ),
    "odd-names": chain(
        {"name": "Fetch users?", "type": "noOp"},
        {"name": "Fetch users!", "type": "noOp"},
        {"name": "states", "type": "noOp"},
        {"name": "2nd step", "type": "noOp"},
    ),
    "long-names": {
        "name": "long-names",
        "nodes": [
            TRIGGER,
            {"name": "Check", "type": "if", "parameters": {"condition": True}},
            {"name": _long("a") + "", "type": "noOp", "retry": {"maxAttempts": 1}},
            {"name": _long("a")[:-1] + "b", "type": "noOp", "retry": {"maxAttempts": 1}},
        ],
        "connections": [
            {"from": "Start", "to": "Check"},
            {"from": "Check", "to": _long("a"), "output": "true"},
            {"from": "Check", "to": _long("a")[:-1] + "b", "output": "false"},
        ],
    },
}


def compiled_case(name: str) -> CompiledWorkflow:
    return compile_workflow(CASES[name])


def states_of(compiled: CompiledWorkflow) -> dict[str, Json]:
    return {name: state for scope in scopes(compiled.definition)
            for name, state in scope["States"].items()}


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("name", sorted(CASES))
def test_definition_invariants(name: str) -> None:
    check_definition(compiled_case(name))


@pytest.mark.parametrize("seed", range(60))
def test_random_workflow_invariants(seed: int) -> None:
    rng = random.Random(seed)
    check_definition(compile_workflow(random_branching_workflow(rng, rng.randint(2, 30))),
                     tolerate=frozenset({CAUGHT_PASS_READS_ERROR_OUTPUT}))


def test_examples_compile_to_valid_definitions() -> None:
    examples = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        check_definition(compile_workflow(load_file(path)))


def test_every_definition_passes_the_asl_validators() -> None:
    from tests.support.asl_validator import moto_problems, validate_asl

    definitions: dict[str, CompiledWorkflow] = {name: compiled_case(name) for name in CASES}
    for seed in range(0, 60, 6):
        rng = random.Random(seed)
        definitions[f"random-{seed}"] = compile_workflow(
            random_branching_workflow(rng, rng.randint(2, 30)))
    for path in GOLDEN_CASES:
        definitions[path.name] = compile_workflow(load_file(path))
    problems = {name: found for name, found in validate_asl(definitions).items() if found}
    for name, compiled in definitions.items():
        problems.setdefault(name, []).extend(moto_problems(compiled))
    assert not {name: found for name, found in problems.items() if found}


# --------------------------------------------------------------------------- specifics


def test_parameters_travel_as_one_json_string() -> None:
    values = {"expr": "{% $json.a %}", "template": "Hi {% $json.name %}!",
              "eq": "=not an expression", "nested": [{"deep": "{% 1 + 1 %}"}], "n": 3}
    compiled = compile_workflow(chain({"name": "Tag", "type": "set",
                                       "parameters": {"values": values}}))
    encoded = states_of(compiled)["Tag"]["Arguments"]["node"]["parameters"]
    assert json.loads(encoded) == {"values": values}
    assert "\n" not in encoded


def test_multiline_code_stays_one_line() -> None:
    code = "out = []\nfor item in items:\n    out.append(item)\nreturn out\n"
    compiled = compile_workflow(chain({"name": "Py", "type": "code",
                                       "parameters": {"code": code}}))
    encoded = states_of(compiled)["Py"]["Arguments"]["node"]["parameters"]
    assert "\n" not in encoded and json.loads(encoded) == {"code": code}


def test_retry_policy_maps_to_a_retrier() -> None:
    states = states_of(compiled_case("retries"))
    assert states["Once"]["Retry"][2:] == []  # the two service retriers only
    assert states["Defaults"]["Retry"][2] == {
        "ErrorEquals": list(RETRYABLE_ERRORS), "IntervalSeconds": 1, "MaxAttempts": 2,
        "BackoffRate": 2.0,
    }
    assert states["Custom"]["Retry"][2] == {
        "ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 3, "MaxAttempts": 4,
        "BackoffRate": 1.5, "MaxDelaySeconds": 60, "JitterStrategy": "FULL",
    }


def test_continue_error_output_adds_a_catch_that_fills_the_error_port() -> None:
    compiled = compiled_case("error-output")
    fetch = states_of(compiled)["Fetch"]
    (catcher,) = fetch["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    assert catcher["Next"] == fetch["Next"]  # both outcomes go on to the same block
    ((variable, expression),) = catcher["Assign"].items()
    assert variable == _variable_in(compiled, "Fetch", fetch)
    assert "$states.errorOutput" in expression
    # Ports are [main, error]: the error item goes to the last one, main stays empty.
    assert '{"ports":[{"count":0,"items":[]},{"count":1,' in expression


def test_continue_regular_output_puts_the_error_on_the_main_port() -> None:
    risky = states_of(compiled_case("continue-regular"))["Risky"]
    (catcher,) = risky["Catch"]
    assert catcher["Next"] == "After"
    (expression,) = catcher["Assign"].values()
    assert '{"ports":[{"count":1,' in expression


def test_stop_workflow_has_no_catch() -> None:
    for name, state in states_of(compiled_case("chain")).items():
        assert "Catch" not in state, name


def test_if_outputs_become_guarded_parallel_branches() -> None:
    document = json.loads(json.dumps(CASES["if-both"]))
    for node in document["nodes"]:
        if node["name"] in ("Yes", "No"):
            node["retry"] = {"maxAttempts": 1}  # on the runner: a guard spares the call
    states = states_of(compile_workflow(document))
    (parallel,) = [s for s in states.values() if s["Type"] == "Parallel"]
    starts = sorted(branch["StartAt"] for branch in parallel["Branches"])
    assert starts == ["#skip No", "#skip Yes"]
    assert states["#skip Yes"]["Choices"][0]["Condition"] == "{% $Check.ports[0].count = 0 %}"
    assert states["#skip No"]["Choices"][0]["Condition"] == "{% $Check.ports[1].count = 0 %}"
    assert parallel["Next"] == "Join"
    assert set(parallel["Assign"]) == {"Yes", "No"}


def test_native_if_branches_run_unguarded() -> None:
    """Native nodes output nothing for no items (and record no run): no guard needed."""
    states = states_of(compiled_case("if-both"))
    (parallel,) = [s for s in states.values() if s["Type"] == "Parallel"]
    assert sorted(branch["StartAt"] for branch in parallel["Branches"]) == ["No", "Yes"]
    assert not [name for name in states if name.startswith("#skip")]


def test_long_names_make_short_unique_helper_states() -> None:
    states = states_of(compiled_case("long-names"))
    guards = [name for name in states if name.startswith("#skip ")]
    assert len(guards) == 2 and guards[0] != guards[1]
    assert any(name.endswith(" (2)") for name in guards)
    assert all(len(name) <= NAME_MAX for name in states)


def test_variable_names_are_unique_identifiers() -> None:
    manifest = compiled_case("odd-names").manifest["nodes"]
    variables = {name: entry["variable"] for name, entry in manifest.items()}
    assert variables == {"Start": "Start", "Fetch users?": "Fetch_users_",
                         "Fetch users!": "Fetch_users__2", "states": "states_2",
                         "2nd step": "n_2nd_step"}


def test_the_last_state_outputs_every_sink() -> None:
    compiled = compiled_case("if-both")
    join = states_of(compiled)["Join"]  # a native Pass: its outputs, computed once more
    assert join["End"] is True
    assert join["Output"] == '{% {"Join":' + join["Assign"]["Join"][3:-3] + '} %}'
    runner = compile_workflow({**if_workflow(), "nodes": [
        {**node, "retry": {"maxAttempts": 1}} if node["name"] == "Join" else node
        for node in if_workflow()["nodes"]]})
    assert states_of(runner)["Join"]["Output"] == '{% {"Join":$states.result} %}'


# --------------------------------------------------------------------------- regressions


def test_terminal_error_output_node() -> None:
    check_definition(compile_workflow(chain(
        {"name": "Fetch", "type": "httpRequest", "onError": "continueErrorOutput",
         "parameters": {"url": "https://example.com"}})))


def test_node_named_like_a_jsonata_function() -> None:
    check_definition(compile_workflow(chain(
        {"name": "count", "type": "noOp"},
        {"name": "Pause", "type": "wait", "parameters": {"seconds": 1}})))


@pytest.mark.parametrize("document", [
    pytest.param(chain({"name": "{% $states.input %}", "type": "noOp"},
                       {"name": "After", "type": "noOp"}), id="node-name"),
    pytest.param(chain({"name": "Route", "type": "switch", "parameters": {
        "rules": [{"condition": True, "output": "{% 1 %}"}]}}), id="switch-output-name"),
])
def test_user_strings_that_look_like_expressions_are_rejected(document: dict[str, Any]) -> None:
    """Names reach Arguments as plain strings; a name that is an expression would be
    evaluated by Step Functions, so validation rejects the delimiters in names."""
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    assert any("name" in p.field or "output" in p.field for p in info.value.problems)


def test_boolean_output_port_is_not_silently_inverted() -> None:
    document = if_workflow()
    document["connections"][1]["output"] = True
    try:
        compiled = compile_workflow(document)
    except WorkflowInvalid:
        return  # rejecting a boolean port is fine too
    edge = next(e for e in compiled.graph.edges if compiled.graph.name(e.target) == "Yes")
    assert compiled.graph.outputs[edge.source][edge.output] == "true"


def test_code_may_contain_expression_delimiters() -> None:
    compile_workflow(chain({"name": "Py", "type": "code", "parameters": {
        "code": "template = '{% for x in items %}'\nreturn items"}}))


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=[p.stem for p in GOLDEN_CASES])
def test_golden_definition(path: Path) -> None:
    compiled = compile_workflow(load_file(path))
    check_definition(compiled)
    expected_path = path.with_suffix(".json")
    if os.environ.get("SFNFLOW_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(compiled.definition, indent=2,
                                            ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert compiled.definition == expected


def test_integration_arns_name_the_partition_the_deployer_gives() -> None:
    """Step Functions runs in other partitions too (aws-cn, aws-us-gov): every service
    integration ARN carries the ``${Partition}`` placeholder, listed in the manifest."""
    examples = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
    texts = {path.name: compile_workflow(load_file(path)) for path in examples}
    integrations = 0
    for compiled in texts.values():
        text = compiled.definition_json()
        assert "arn:aws:" not in text, compiled.name
        integrations += text.count('"arn:${Partition}:states:::')
        assert "Partition" in compiled.manifest["substitutions"]
        china = json.loads(compiled.definition_json({"Partition": "aws-cn"}))
        assert "${Partition}" not in json.dumps(china)
    assert integrations > 5  # sub-workflows, quorums, waits, Distributed Maps all use them
