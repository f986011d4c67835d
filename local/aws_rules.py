"""AWS's static rules for a state machine definition that moto's parser does not check.

Pure functions over a definition (a dict, as ``json.loads`` gives it): each returns a list of
problems (``[]`` = the rule holds). The strict layer (``local.strict``) runs them where AWS
runs them — CreateStateMachine and UpdateStateMachine answer ``InvalidDefinition`` — and
the tests' ASL checker (``tests/support/asl_validator.py``) runs them on every compiled
definition.

Variable scopes (Step Functions developer guide, "Passing data between states with
variables"): the top level of a machine is one scope, and so is each Parallel branch and
each Map's item processor. A state in an inner scope reads the variables of the scopes
around it, but may not *assign* a name that an enclosing scope assigns, and a name is
assigned in one scope only (``sfnflow`` reads "unique across scopes" strictly: sibling
branches do not share names either). A Distributed Map's item processor runs as child
executions: it sees no outer variable at all, so it may not read one.

A state assigns in its own scope through its ``Assign``, its Catchers' ``Assign`` and its
Choice rules' ``Assign`` (a Parallel's or Map's own ``Assign`` runs in the scope *around*
it, after its branches finish).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.expressions import strings_in
from compiler.model import NAME_MAX, name_length

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Step Functions evaluates a string only when the whole string is one ``{% ... %}``.
_EXPRESSION = re.compile(r"\s*\{%(.*)%\}\s*", re.DOTALL)


@dataclass
class _Scope:
    path: str  # where it is, for messages: "top level", "branch 2 of 'P'", ...
    states: Mapping[str, Any]
    distributed: bool = False
    parent: _Scope | None = None
    assigned: dict[str, str] = field(default_factory=dict)  # name -> state assigning it

    def ancestors(self) -> Iterator[_Scope]:
        scope = self.parent
        while scope is not None:
            yield scope
            scope = scope.parent


def _assigns(state: Mapping[str, Any]) -> Iterator[str]:
    yield from (state.get("Assign") or {})
    for catcher in state.get("Catch") or ():
        yield from (catcher.get("Assign") or {})
    for rule in state.get("Choices") or ():
        yield from (rule.get("Assign") or {})


def _children(name: str, state: Mapping[str, Any], scope: _Scope) -> Iterator[_Scope]:
    for index, branch in enumerate(state.get("Branches") or (), start=1):
        yield _Scope(f"branch {index} of {name!r}", branch.get("States") or {}, parent=scope)
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if processor:
        mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
        yield _Scope(f"item processor of {name!r}", processor.get("States") or {},
                     distributed=mode == "DISTRIBUTED", parent=scope)


def _scopes(definition: Mapping[str, Any]) -> list[_Scope]:
    """Every scope of the definition, parents before children, with what each assigns."""
    pending = [_Scope("top level", definition.get("States") or {})]
    scopes: list[_Scope] = []
    while pending:
        scope = pending.pop(0)
        scopes.append(scope)
        for name, state in scope.states.items():
            for variable in _assigns(state):
                scope.assigned.setdefault(variable, name)
            pending.extend(_children(name, state, scope))
    return scopes


def _expressions(value: Any) -> Iterator[str]:
    for text in strings_in(value):
        match = _EXPRESSION.fullmatch(text)
        if match:
            yield match.group(1)


def _own_fields(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state's fields minus the nested scopes (checked as scopes of their own)."""
    return {k: v for k, v in state.items() if k not in ("Branches", "ItemProcessor", "Iterator")}


def variable_scope_problems(definition: Mapping[str, Any]) -> list[str]:
    """Assignments that break the scope rules (see the module docstring)."""
    scopes = _scopes(definition)
    problems: list[str] = []
    owner: dict[str, _Scope] = {}  # variable -> the first scope that assigns it
    for scope in scopes:
        for variable, state in scope.assigned.items():
            outer = next((s for s in scope.ancestors() if variable in s.assigned), None)
            if outer is not None:
                problems.append(
                    f"state {state!r} ({scope.path}) assigns ${variable}, which "
                    f"{outer.path} assigns (state {outer.assigned[variable]!r}): an inner "
                    "scope may not assign a variable of an outer scope")
            elif variable in owner and owner[variable] is not scope:
                other = owner[variable]
                problems.append(
                    f"state {state!r} ({scope.path}) assigns ${variable}, which "
                    f"{other.path} also assigns (state {other.assigned[variable]!r}): "
                    "variable names must be unique across scopes")
            owner.setdefault(variable, scope)
        if scope.distributed:
            problems += _outer_reads(scope)
    return problems


def _outer_reads(scope: _Scope) -> list[str]:
    """Reads, inside a Distributed Map's item processor, of variables only outer scopes
    assign (the child executions cannot see them)."""
    outer = {v for s in scope.ancestors() for v in s.assigned}
    inner: set[str] = set()
    nested = [scope]
    while nested:  # the processor and every scope inside it
        current = nested.pop()
        inner |= current.assigned.keys()
        for name, state in current.states.items():
            nested.extend(_children(name, state, current))
    problems = []
    for name, state in scope.states.items():
        read = {v for text in _expressions(_own_fields(state)) for v in _VARIABLE.findall(text)}
        for variable in sorted((read & outer) - inner):
            problems.append(
                f"state {name!r} ({scope.path}, a Distributed Map) reads ${variable}, which "
                "only an outer scope assigns: child executions see no outer variables")
    return problems


def name_problems(definition: Mapping[str, Any]) -> list[str]:
    """State and variable names longer than AWS allows (80 characters, counted in UTF-16
    code units as Step Functions counts them: ``compiler.model.name_length``)."""
    problems = []
    for scope in _scopes(definition):
        for name in scope.states:
            if name_length(name) > NAME_MAX:
                problems.append(f"state name {name[:40]!r}... ({scope.path}) is "
                                f"{name_length(name)} characters; the limit is {NAME_MAX}")
        for variable in scope.assigned:
            if name_length(variable) > NAME_MAX:
                problems.append(f"variable ${variable[:40]}... ({scope.path}) is "
                                f"{name_length(variable)} characters; the limit is {NAME_MAX}")
    return problems


def definition_problems(definition: Mapping[str, Any]) -> list[str]:
    """Every static rule above."""
    return variable_scope_problems(definition) + name_problems(definition)
