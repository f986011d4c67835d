"""Validate compiled Amazon States Language with two independent implementations.

* ``validate_asl`` runs the published ``asl-validator`` npm package (JSON schemas for every
  state type incl. ``QueryLanguage: "JSONata"``, ``Arguments``/``Output``/``Assign``, JSONata
  syntax via the reference ``jsonata`` library, transition targets, terminal states) over
  many definitions in ONE node process.
* ``moto_problems`` parses a definition with moto's ASL parser (the ANTLR grammar behind the
  local runtime), runs moto's variable-reference analyser (what ``DescribeStateMachine``
  runs), and checks every transition target in moto's parsed program. moto itself does not
  reject a ``Next`` that names no state at create time (it fails only when an execution gets
  there), so that check is done here, on moto's parsed ``Program``.
* ``validate_asl`` also runs ``local.aws_rules``: what AWS's CreateStateMachine checks and
  neither asl-validator nor moto's parser does (JSONata variable scopes, name lengths).
* ``assert_valid_asl`` does all of it and fails with every problem listed.

Compiled definitions carry the ``${NodeRunnerArn}`` placeholder; it is replaced with a
well-formed Lambda ARN (``NODE_RUNNER_ARN``) before validating.

asl-validator lives in ``node_modules`` (``package.json`` at the repository root). If it is
missing the helpers raise ``AslValidatorUnavailable``: they never skip silently.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from compiler.pipeline import CompiledWorkflow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("validate_asl.js")
NODE_MODULES = ROOT / "node_modules"
NODE_RUNNER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:sfnflow-node-runner"
SUBSTITUTIONS = {"NodeRunnerArn": NODE_RUNNER_ARN, "Partition": "aws"}
TIMEOUT_SECONDS = 600

Definition = CompiledWorkflow | Mapping[str, Any] | str


class AslValidatorUnavailable(RuntimeError):
    """node or the asl-validator npm package is not installed."""


def _substitute(text: str, substitutions: Mapping[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    return text


def definition_text(definition: Definition,
                    substitutions: Mapping[str, str] = SUBSTITUTIONS) -> str:
    """The definition as JSON text with ``${Placeholders}`` substituted."""
    if isinstance(definition, CompiledWorkflow):
        return definition.definition_json(dict(substitutions))
    if isinstance(definition, str):
        return _substitute(definition, substitutions)
    return _substitute(json.dumps(definition, indent=2, ensure_ascii=False), substitutions)


def _require_node() -> str:
    hint = f"run `make test` (or `npm ci` in {ROOT}) to install the Node dev tools"
    node = shutil.which("node")
    if node is None:
        raise AslValidatorUnavailable(f"`node` is not on PATH; install Node 20+, then {hint}")
    if not (NODE_MODULES / "asl-validator" / "package.json").is_file():
        raise AslValidatorUnavailable(
            f"asl-validator is not installed ({NODE_MODULES / 'asl-validator'} is missing); "
            + hint
        )
    return node


# --------------------------------------------------------------------------- asl-validator


def validate_asl(definitions: Mapping[str, Definition],
                 substitutions: Mapping[str, str] = SUBSTITUTIONS) -> dict[str, list[str]]:
    """asl-validator's problems for every definition, by name (``[]`` = valid).

    All definitions are checked by one node process. Raises ``AslValidatorUnavailable`` if
    node or the package is missing, ``RuntimeError`` if the validator script itself fails.
    """
    if not definitions:
        return {}
    node = _require_node()
    with tempfile.TemporaryDirectory(prefix="sfnflow-asl-") as tmp:
        directory = Path(tmp)
        index: dict[str, str] = {}
        for number, (name, definition) in enumerate(definitions.items()):
            file = f"{number}.json"
            (directory / file).write_text(definition_text(definition, substitutions),
                                          encoding="utf-8")
            index[file] = name
        (directory / "index.json").write_text(json.dumps(index), encoding="utf-8")
        completed = subprocess.run(
            [node, str(SCRIPT), str(directory)],
            cwd=ROOT,  # so require("asl-validator") resolves to ROOT/node_modules
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} exited with {completed.returncode}:\n{completed.stderr.strip()}"
        )
    results: dict[str, list[str]] = json.loads(completed.stdout)
    return {name: results[name] + aws_rule_problems(definition, substitutions)
            for name, definition in definitions.items()}


def aws_rule_problems(definition: Definition,
                      substitutions: Mapping[str, str] = SUBSTITUTIONS) -> list[str]:
    """What AWS refuses at CreateStateMachine that moto accepts (``local.aws_rules``)."""
    from local.aws_rules import definition_problems

    text = definition_text(definition, substitutions)
    return [f"aws-rules: {problem}" for problem in definition_problems(json.loads(text))]


# --------------------------------------------------------------------------- moto


_MOTO_COMPONENTS = "moto.stepfunctions.parser.asl.component."


class _Scope:
    def __init__(self, start_at: Any, states: Any) -> None:
        self.start_at = start_at
        self.states = states


def _scope_targets(scope: Any) -> tuple[set[str], list[tuple[str, str]], list[Any]]:
    """State names of a moto scope (Program / item processor), its transitions, sub-scopes.

    Transitions are ``(kind, target)``. The walk is generic over moto's component objects so
    that any ``Next`` moto parsed (state, Choice rule, Catcher) is found.
    """
    from moto.stepfunctions.parser.asl.component.common.flow.next import Next
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.state.choice.default_decl import DefaultDecl

    names = set(scope.states.states)
    transitions: list[tuple[str, str]] = [("StartAt", scope.start_at.start_at_name)]
    nested: list[Any] = []
    seen: set[int] = {id(scope)}

    def is_component(value: Any) -> bool:
        # Not every parsed object is a Component (e.g. a state's ContinueWithNext is not).
        return isinstance(value, Component) or (
            type(value).__module__.startswith(_MOTO_COMPONENTS) and hasattr(value, "__dict__")
        )

    def children(value: Any) -> Iterator[Any]:
        if is_component(value):
            yield from vars(value).values()
        elif isinstance(value, Mapping):
            yield from value.values()
        elif isinstance(value, list | tuple | set):
            yield from value

    pending = list(children(scope.states))
    while pending:
        value = pending.pop()
        if id(value) in seen or not (
            is_component(value) or isinstance(value, Mapping | list | tuple | set)
        ):
            continue
        seen.add(id(value))
        if isinstance(value, Next):
            transitions.append(("Next", value.name))
        elif isinstance(value, DefaultDecl):
            transitions.append(("Default", value.state_name))
        elif isinstance(getattr(value, "start_at", None), StartAt) and hasattr(value, "states"):
            nested.append(value)  # a Parallel branch or Map item processor: its own scope
            continue
        elif isinstance(getattr(value, "_start_at", None), StartAt) and hasattr(value, "_states"):
            # an inline Map item processor keeps its scope in private attributes
            nested.append(_Scope(value._start_at, value._states))
            continue
        pending.extend(children(value))
    return names, transitions, nested


def _transition_problems(program: Any) -> list[str]:
    problems: list[str] = []
    pending = [program]
    while pending:
        scope = pending.pop()
        names, transitions, nested = _scope_targets(scope)
        for kind, target in transitions:
            if target not in names:
                problems.append(
                    f"moto: {kind} {target!r} names no state in its scope "
                    f"(states: {', '.join(sorted(names))})"
                )
        pending.extend(nested)
    return problems


def moto_problems(definition: Definition,
                  substitutions: Mapping[str, str] = SUBSTITUTIONS) -> list[str]:
    """Problems moto 5.2.5's ASL implementation finds (``[]`` = accepted)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        AmazonStateLanguageParser,
        ASLParserException,
    )
    from moto.stepfunctions.parser.asl.static_analyser.variable_references_static_analyser import (  # noqa: E501
        VariableReferencesStaticAnalyser,
    )

    from local import moto_patches

    moto_patches.apply_all()  # as the local runtime parses (e.g. ResultWriter's Arguments)
    text = definition_text(definition, substitutions)
    try:
        program, _tree = AmazonStateLanguageParser.parse(text)
    except ASLParserException as exc:
        return [f"moto: {error}" for error in exc.errors] or [f"moto: {exc!r}"]
    except Exception as exc:  # the preprocessor raises plain exceptions on bad values
        return [f"moto: {type(exc).__name__}: {exc}"]
    problems = _transition_problems(program)
    try:
        VariableReferencesStaticAnalyser.process_and_get(text)
    except Exception as exc:
        problems.append(f"moto: variable references: {type(exc).__name__}: {exc}")
    return problems


# --------------------------------------------------------------------------- both


def asl_problems(definition: Definition) -> dict[str, list[str]]:
    """``{"asl-validator": [...], "moto": [...]}`` for one definition (the first includes
    ``local.aws_rules``' problems)."""
    return {
        "asl-validator": validate_asl({"definition": definition})["definition"],
        "moto": moto_problems(definition),
    }


def assert_valid_asl(definition: Definition) -> None:
    """Fail (AssertionError) unless asl-validator, ``local.aws_rules`` and moto's parser all
    accept it."""
    problems = asl_problems(definition)
    if any(problems.values()):
        name = definition.name if isinstance(definition, CompiledWorkflow) else "definition"
        lines = [f"{name}: invalid ASL"]
        for validator, found in problems.items():
            lines += [f"  [{validator}] {problem}" for problem in found]
        raise AssertionError("\n".join(lines))
