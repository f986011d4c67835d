"""n8n's IF, Filter, Switch and Set in JSONata: each node's native form, or why it has none.

The translation half of ``compiler.lowering.n8n_native`` (whose docstring lists what is
reproduced and how exactness is kept at run time): ``build`` turns a node's parameters
into its per-item guard and the JSONata of its ports, ``refusal`` says why a node of the
workflow stays on the runner. Pure: it knows no states, so the decisions pass
(``compiler.passes.decide``, through ``compiler.native_check``) can ask it before anything
is lowered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.expressions import parse
from compiler.graph import Graph, per_graph
from compiler.jsonata_text import text as string_literal
from compiler.n8n.catalogue import BASE
from compiler.n8n.jsonata import HELPERS, Translation, all_of, combine, translate
from compiler.nodetypes import N8nParams

IF, FILTER, SWITCH, SET = BASE + "if", BASE + "filter", BASE + "switch", BASE + "set"
TYPES = frozenset({IF, FILTER, SWITCH, SET})
TRUE = Translation("true", "true", "boolean")
ZERO = Translation("0", "true", "number")


class Refused(Exception):  # noqa: N818 - internal control flow: the fallback reason
    pass


@dataclass(frozen=True)
class Built:
    """A node's native form: per-item ``guard`` and the JSONata of its ports (over
    ``$items``; bindings first, as ``native.Outputs``)."""

    guard: str
    bindings: str
    ports: list[str]


# --------------------------------------------------------------------------- reads by name

_JS_READ = re.compile(
    r"""\$\(\s*(['"])((?:(?!\1)[^\\]|\\.)*)\1\s*\)"""
    r"""|\$node\s*\[\s*(['"])((?:(?!\3)[^\\]|\\.)*)\3\s*\]"""
    r"""|\$node\.([A-Za-z_][A-Za-z0-9_]*)"""
    r"""|\$items\(\s*(['"])((?:(?!\6)[^\\]|\\.)*)\6"""
    r"""|(?<![\w$])_\(\s*(['"])((?:(?!\8)[^\\]|\\.)*)\8\s*\)"""
    r"""|(?<![\w$])_node\s*\[\s*(['"])((?:(?!\10)[^\\]|\\.)*)\10\s*\]""")
_ANY_READ = re.compile(r"\$\(|\$node\b|\$items\b|(?<![\w$])_\(|(?<![\w$])_node\b"
                       r"|(?<![\w$])_items\b")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def names_read(source: str) -> set[str] | None:
    """Node names read by name in one string (None: some name is computed)."""
    names: set[str] = set()
    found = 0
    for match in _JS_READ.finditer(source):
        found += 1
        groups = [g for i, g in enumerate(match.groups()) if i in (1, 3, 4, 6, 8, 10)]
        name = next(g for g in groups if g is not None)
        if "\\" in name:
            return None
        names.add(name)
    return names if found == len(_ANY_READ.findall(source)) else None


@per_graph
def _on_runner_for_reads(graph: Graph) -> frozenset[int] | None:
    """Nodes that must record run data before their readers run (None: every node)."""
    read: dict[int, set[str]] = {}
    for node, spec in enumerate(graph.nodes):
        names: set[str] = set()
        for string in _strings(spec.parameters):
            found = names_read(string)
            if found is None:
                return None
            names |= found
        if names:
            read[node] = names
    if not read:
        return frozenset()
    successors = [list(s) for s in graph.succs]
    for loop in graph.loops.values():
        for edge in loop.back_edges:
            successors[edge.source].append(edge.target)
    keep: set[int] = set()
    for reader, names in read.items():
        before = _reach(reader, [list(p) for p in _predecessors(graph, successors)])
        for name in names:
            source = graph.index.get(name)
            if source is None:
                continue
            after = _reach(source, successors)
            keep |= ({source} | after) & (before | {source})
    return frozenset(keep)


def _predecessors(graph: Graph, successors: list[list[int]]) -> list[list[int]]:
    preds: list[list[int]] = [[] for _ in graph.nodes]
    for source, targets in enumerate(successors):
        for target in targets:
            preds[target].append(source)
    return preds


def _reach(start: int, links: list[list[int]]) -> set[int]:
    seen: set[int] = set()
    pending = list(links[start])
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(links[node])
    return seen


# --------------------------------------------------------------------------- parameters


def _static(parameters: Mapping[str, Any], key: str, default: Any) -> Any:
    """A parameter that must be a literal (an expression makes the node per-item)."""
    value = parameters.get(key, default)
    if any(s.startswith("=") for s in _strings(value)):
        raise Refused(f"an expression in {key}")
    return value


def _value(value: Any, where: str) -> Translation:
    translated = translate(value)
    if translated is None:
        raise Refused(f"{where} {value!r} is not translatable to JSONata")
    return translated


def _bind(translation: Translation, body: str, guard: str = "true",
          kind: str = "boolean") -> Translation:
    """``body`` over ``$x`` (the translation's value), guarded by ``guard`` over ``$x``;
    ``kind`` is the body's type (``compiler.n8n.jsonata.Translation``: any may be
    undefined, the others never are). A literal's guard is decided here: always true needs
    no check at run time, never true means the runner always converts or rejects it."""
    check = "true" if guard == "true" else f"($x := {translation.value}; {guard})"
    if check != "true" and translation.guard == "true" and _constant(translation.value):
        if not _static_truth(check):
            raise Refused(f"the literal {translation.value}, which n8n converts or rejects "
                          "as this type")
        check = "true"
    return Translation(f"($x := {translation.value}; {body})",
                       _and(translation.guard, check), kind)


def _constant(value: str) -> bool:
    return not re.search(r"\$(json|index|it)\b", value)


def _static_truth(source: str) -> bool:
    try:
        return parse(f"({HELPERS}{source})").evaluate(None) is True
    except Exception:  # noqa: BLE001 - any failure: not known to hold
        return False


def _and(*guards: str) -> str:
    return all_of(*guards)


def _not(translation: Translation) -> Translation:
    return Translation(f"$not({translation.value})", translation.guard, "boolean")


def _all_of(conditions: list[Translation], any_: bool) -> Translation:
    """Conditions combined as the runner does; every guard must hold (stricter than its
    short-circuit, never looser)."""
    if not conditions:
        return Translation("false" if any_ else "true", "true", "boolean")
    joiner = " or " if any_ else " and "
    return Translation("(" + joiner.join(f"({c.value})" for c in conditions) + ")",
                       _and(*(c.guard for c in conditions)), "boolean")


# --------------------------------------------------------------------------- legacy format

_LEGACY_TYPES = ("boolean", "dateTime", "number", "string")
_LEGACY_OPERATION = {"boolean": "equal", "dateTime": "after", "number": "smaller",
                     "string": "equal"}
_LEGACY_DEFAULT = {"boolean": False, "dateTime": "", "number": 0, "string": ""}
_RELATIONAL = {"smaller": "<", "smallerEqual": "<=", "larger": ">", "largerEqual": ">="}
_TEXT = "$jsTruthy($x) ? $jsStr($x) : \"\""  # conditions._text
_TEXT_GUARD = "$not($jsTruthy($x)) or $jsStrable($x)"


def _text_of(value: Translation) -> Translation:
    return Translation(f"($x := {value.value}; {_TEXT})",
                       _and(value.guard, f"($x := {value.value}; {_TEXT_GUARD})"), "string")


def _string_of(value: Translation) -> Translation:
    """``js_string``: guarded to values String() writes exactly (no undefined)."""
    return Translation(f"($x := {value.value}; $jsStr($x))",
                       _and(value.guard, f"($x := {value.value}; $jsStrable($x))"), "string")


def _starts(a: Translation, b: Translation, at_end: bool = False) -> Translation:
    where = "$length($l) - $length($r)" if at_end else "0"
    return Translation(
        f"($l := {a.value}; $r := {b.value}; $length($r) <= $length($l) and "
        f"$substring($l, {where}, $length($r)) = $r)", _and(a.guard, b.guard), "boolean")


def _contains(a: Translation, b: Translation) -> Translation:
    return Translation(f"$contains({a.value}, {b.value})", _and(a.guard, b.guard), "boolean")


def _is_empty(value: Translation) -> Translation:
    return _bind(value, '$jsNullish($x) or $x = "" or ($type($x) = "array" and $count($x) = 0)'
                        ' or ($type($x) = "object" and $count($keys($x)) = 0)')


def legacy_compare(data_type: str, operation: str, value1: Any, value2: Any) -> Translation:
    """One IF v1 / Filter v1 / Switch v1-v2 comparison (``conditions.legacy_compare``)."""
    if data_type not in ("boolean", "number", "string"):
        raise Refused(f"{data_type} conditions")
    left, right = _value(value1, "value1"), _value(value2, "value2")
    if operation in ("equal", "notEqual"):
        equal = combine("===", left, right)  # two objects: guarded off (runner: never equal)
        return equal if operation == "equal" else _not(equal)
    if operation in _RELATIONAL:
        return combine(_RELATIONAL[operation], combine("||", left, ZERO),
                       combine("||", right, ZERO))
    if operation in ("contains", "notContains"):
        found = _contains(_text_of(left), _text_of(right))
        return found if operation == "contains" else _not(found)
    if operation in ("startsWith", "notStartsWith", "endsWith", "notEndsWith"):
        # n8n calls value1.startsWith(value2): a value1 that is not text is its TypeError
        text1 = _bind(left, "$x", '$type($x) = "string"', "string")
        found = _starts(text1, _string_of(right), at_end="ends" in operation.lower())
        return found if not operation.startswith("not") else _not(found)
    if operation in ("isEmpty", "isNotEmpty"):
        empty = _is_empty(left)
        return empty if operation == "isEmpty" else _not(empty)
    raise Refused(f"the {operation} operation")


def legacy_conditions(parameters: Mapping[str, Any], combine_key: str, any_value: str,
                      default: str) -> Translation:
    conditions = _static_container(parameters, "conditions")
    combine_any = _static(parameters, combine_key, default) == any_value
    results: list[Translation] = []
    for data_type in _LEGACY_TYPES:
        for condition in conditions.get(data_type) or []:
            if not isinstance(condition, dict):
                raise Refused("a malformed condition")
            operation = _static(condition, "operation", _LEGACY_OPERATION[data_type])
            results.append(legacy_compare(
                data_type, str(operation),
                condition.get("value1", _LEGACY_DEFAULT[data_type]),
                condition.get("value2", _LEGACY_DEFAULT[data_type])))
    return _all_of(results, combine_any)


def _static_container(parameters: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = parameters.get(key, {})
    if not isinstance(value, dict):
        raise Refused(f"{key} is not an object")
    return value


# --------------------------------------------------------------------------- filter format


@dataclass(frozen=True)
class FilterOptions:
    case_sensitive: bool
    strict: bool
    version: int
    #: the node's typeVersion implies options version 2 but the stored options do not say
    #: so: n8n 1.123 reads the stored one (1), the runner the node's (2)
    disputed: bool = False


def filter_options(stored: Any, ignore_case: Any, loose: Any, version: int | None
                   ) -> FilterOptions:
    """``conditions.filter_options``: the stored options win over the node's."""
    if not isinstance(stored, dict):
        raise Refused("a filter value without options")  # n8n fails on it
    for value in (ignore_case, loose, *stored.values()):
        if isinstance(value, str) and value.startswith("="):
            raise Refused("an expression in the filter options")
    case_sensitive = stored.get("caseSensitive",
                                True if ignore_case is None else not ignore_case)
    strict = stored["typeValidation"] != "loose" if "typeValidation" in stored else \
        not loose
    stored_version = stored.get("version", 1)
    if not isinstance(stored_version, int):
        raise Refused("a filter options version that is not a number")
    return FilterOptions(bool(case_sensitive), bool(strict),
                         int(version if version is not None else stored_version or 1),
                         version is not None and stored_version != version)


def _typed(value: Translation, type_: str, options: FilterOptions) -> Translation:
    """The operand after n8n's type validation (``conditions.parse_typed``), guarded by
    the validation of the raw value (a failure is n8n's error: the runner raises it)."""
    nullish = "$jsNullish($x)"
    if type_ == "string":
        if options.strict:
            return _bind(value, "$x", f'{nullish} or $type($x) = "string"', "any")
        return _bind(value, f"{nullish} ? $x : $jsStr($x)", f"{nullish} or $jsStrable($x)",
                     "any")
    if type_ == "number":
        if options.strict:
            return _bind(value, "$x", f'{nullish} or $type($x) = "number"', "any")
        return _bind(value, f"{nullish} ? $x : $jsNumber($x)",
                     f'{nullish} or $type($x) = "number" or $jsNumeric($x)', "any")
    if type_ == "boolean":
        if options.strict:
            return _bind(value, "$x", f'{nullish} or $type($x) = "boolean"', "any")
        if options.disputed:
            raise Refused("a loose boolean condition whose filter options name no version "
                          "2 (n8n reads 1 there, the runner 2)")
        if options.version < 2:
            return _bind(value, f"{nullish} ? $x : $jsTruthy($x)", "true", "any")
        # tryToParseBoolean, else truthiness: text with digits may parse as 0 or 1
        loose = (f'{nullish} ? $x : $type($x) = "boolean" ? $x : $type($x) = "number" ? '
                 '$x != 0 : $jsBoolText($x) ? $lowercase($x) = "true" : $x != ""')
        return _bind(value, loose, f'{nullish} or $type($x) in ["boolean", "number"] or '
                     '($type($x) = "string" and ($jsBoolText($x) or '
                     "$not($contains($x, /[0-9]/))))", "any")
    raise Refused(f"{type_} operators")


_STRING_OPS = {"equals", "notEquals", "contains", "notContains", "startsWith",
               "notStartsWith", "endsWith", "notEndsWith", "empty", "notEmpty"}
_NUMBER_OPS = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
_ASCII = r'$not($contains($x, /[^\u0000-\u007f]/))'


def filter_condition(condition: Any, options: FilterOptions) -> Translation:
    if not isinstance(condition, dict):
        raise Refused("a malformed condition")
    operator = _static(condition, "operator", {})
    if not isinstance(operator, dict):
        raise Refused("a malformed operator")
    type_ = operator.get("type", "string")
    operation = operator.get("operation", "equals")
    right_type = operator.get("rightType") or type_
    single = bool(operator.get("singleValue"))
    if "leftValue" not in condition:
        raise Refused("a condition without leftValue")
    left = _typed(_value(condition["leftValue"], "leftValue"), type_, options)
    guards = [left.guard]
    if single:
        right = Translation("null", "true", "null")
    elif "rightValue" not in condition:
        raise Refused("a condition without rightValue")
    else:
        right = _typed(_value(condition["rightValue"], "rightValue"), right_type, options)
        guards.append(right.guard)
    checked = _and(*guards)
    result = _operation(type_, operation, left, right, options)
    return Translation(result.value, _and(checked, result.guard), "boolean")


def _operation(type_: str, operation: str, left: Translation, right: Translation,
               options: FilterOptions) -> Translation:
    if operation in ("exists", "notExists"):
        exists = _bind(left, "$not($jsNullish($x))")
        return exists if operation == "exists" else _not(exists)
    if type_ == "string":
        if operation not in _STRING_OPS:
            raise Refused(f"the string operation {operation}")
        return _string_operation(operation, left, right, options)
    if type_ == "number":
        if operation in ("equals", "notEquals"):
            equal = combine("===", left, right)
            return equal if operation == "equals" else _not(equal)
        if operation in _NUMBER_OPS:  # a nullish operand (JavaScript's coercion): runner
            return combine(_NUMBER_OPS[operation], left, right)
        raise Refused(f"the number operation {operation}")
    # boolean
    if operation in ("true", "false"):
        truthy = _bind(left, "$jsTruthy($x)")
        return truthy if operation == "true" else _not(truthy)
    if operation in ("equals", "notEquals"):
        equal = combine("===", left, right)
        return equal if operation == "equals" else _not(equal)
    raise Refused(f"the boolean operation {operation}")


def _string_operation(operation: str, left: Translation, right: Translation,
                      options: FilterOptions) -> Translation:
    def text(value: Translation) -> Translation:  # nullish reads "" (after case folding)
        body = '$jsNullish($x) ? "" : $x'
        guard = "true"
        if not options.case_sensitive:
            body = '$jsNullish($x) ? "" : $lowercase($x)'
            guard = f"$jsNullish($x) or {_ASCII}"
        return _bind(value, body, guard, "string")

    a, b = text(left), text(right)
    if operation in ("empty", "notEmpty"):
        empty = Translation(f"($length({a.value}) = 0)", a.guard, "boolean")
        return empty if operation == "empty" else _not(empty)
    if operation in ("equals", "notEquals"):
        equal = Translation(f"({a.value} = {b.value})", _and(a.guard, b.guard), "boolean")
        return equal if operation == "equals" else _not(equal)
    if operation in ("contains", "notContains"):
        found = _contains(a, b)
        return found if operation == "contains" else _not(found)
    found = _starts(a, b, at_end="ends" in operation.lower())
    return found if not operation.startswith("not") else _not(found)


def filter_value(value: Any, ignore_case: Any, loose: Any, version: int | None
                 ) -> Translation:
    """A whole filter value (``conditions.run_filter``)."""
    if not isinstance(value, dict):
        raise Refused("conditions is not an object")
    options = filter_options(value.get("options"), ignore_case, loose, version)
    combinator = _static(value, "combinator", "and")
    conditions = _static_list(value, "conditions")
    return _all_of([filter_condition(c, options) for c in conditions], combinator == "or")


def _static_list(parameters: Mapping[str, Any], key: str) -> list[Any]:
    value = parameters.get(key) or []
    if not isinstance(value, list):
        raise Refused(f"{key} is not a list")
    return value


def _node_options(parameters: Mapping[str, Any], version: float, loose_from: float
                  ) -> tuple[Any, Any]:
    options = _static(parameters, "options", {}) or {}
    if not isinstance(options, dict):
        raise Refused("options is not an object")
    loose = options.get("looseTypeValidation") if version < loose_from else \
        _static(parameters, "looseTypeValidation", None)
    ignore_case = options.get("ignoreCase")
    return (None if ignore_case is None else bool(ignore_case),
            None if loose is None else bool(loose))


# --------------------------------------------------------------------------- nodes


def _item(json: str) -> str:
    return f'{{"json": {json}, "pairedItem": {{"item": $index}}}}'


def _per_item(body: str) -> str:
    return f"[$map($items, function($it, $index) {{ ($json := $it.json; {body}) }})]"


def _condition(type_name: str, version: float, parameters: Mapping[str, Any]) -> Translation:
    if version < 2:
        if type_name == FILTER:
            return legacy_conditions(parameters, "combineConditions", "OR", "AND")
        return legacy_conditions(parameters, "combineOperation", "any", "all")
    ignore_case, loose = _node_options(parameters, version, 2.1)
    return filter_value(parameters.get("conditions"), ignore_case, loose,
                        2 if version >= 2.2 else None)


def _branching(type_name: str, version: float, parameters: Mapping[str, Any]) -> Built:
    condition = _condition(type_name, version, parameters)
    routed = _per_item(f'{{"t": {condition.value}, "j": {_item("$json")}}}')
    # Filter v2+ keeps its discarded items on a second port, as IF does its false ones
    ports = ["[$m[t].j]", "[$m[$not(t)].j]"]
    if type_name == FILTER and version < 2:
        ports = ports[:1]
    return Built(condition.guard, f"$m := {routed}; ", ports)


def _switch(version: float, parameters: Mapping[str, Any], outputs: int) -> Built:
    if _static(parameters, "mode", "rules") != "rules":
        raise Refused("Switch in expression mode")
    if version < 3:
        return _legacy_switch(version, parameters, outputs)
    rules = _static_list(_static_container(parameters, "rules"), "values")
    options = _static(parameters, "options", {}) or {}
    if not isinstance(options, dict):
        raise Refused("options is not an object")
    ignore_case = options.get("ignoreCase")
    loose = options.get("looseTypeValidation") if version < 3.2 else \
        _static(parameters, "looseTypeValidation", None)
    conditions = [
        filter_value(rule.get("conditions") if isinstance(rule, dict) else None,
                     None if ignore_case is None else bool(ignore_case),
                     None if loose is None else bool(loose), 2 if version >= 3.2 else None)
        for rule in rules]
    fallback = options.get("fallbackOutput", "none")
    count = len(rules) + (1 if fallback == "extra" else 0)
    if max(count, 1) != outputs:
        raise Refused("outputs that do not match the rules")
    if fallback in (None, "none"):
        target = None
    elif fallback == "extra":
        target = count - 1
    elif isinstance(fallback, int) and not isinstance(fallback, bool) \
            and 0 <= fallback < count:
        target = fallback
    else:
        raise Refused(f"the fallback output {fallback!r}")
    targets = list(range(len(rules)))
    return _route(conditions, targets, bool(options.get("allMatchingOutputs", False)),
                  target, max(count, 1))


def _legacy_switch(version: float, parameters: Mapping[str, Any], outputs: int) -> Built:
    data_type = str(_static(parameters, "dataType", "number"))
    rules = _static_list(_static_container(parameters, "rules"), "rules")
    fallback = _static(parameters, "fallbackOutput", -1)
    value1 = parameters.get("value1", _LEGACY_DEFAULT.get(data_type))
    conditions, targets = [], []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise Refused("a malformed rule")
        output = _static(rule, "output", index)
        if not isinstance(output, int) or isinstance(output, bool) or \
                not 0 <= output < outputs:
            raise Refused(f"the rule output {output!r}")
        conditions.append(legacy_compare(
            data_type, str(_static(rule, "operation", "equal")), value1,
            rule.get("value2", _LEGACY_DEFAULT.get(data_type))))
        targets.append(output)
    if version >= 2 and (targets != list(range(len(rules))) or outputs != len(rules)):
        # n8n's v2 routes a match to the rule's position among len(rules) outputs (its
        # ``output`` is only range-checked) and fails on an "extra" fallback
        raise Refused("Switch v2 rules whose outputs are not their positions")
    target: int | None
    if isinstance(fallback, int) and not isinstance(fallback, bool) and \
            0 <= fallback < outputs:
        target = fallback
    elif fallback == -1:
        target = None
    else:
        raise Refused(f"the fallback output {fallback!r}")
    return _route(conditions, targets, False, target, outputs)


def _route(conditions: list[Translation], targets: list[int], all_matching: bool,
           fallback: int | None, outputs: int) -> Built:
    """Each item to the output of its first (or every) matching rule, else ``fallback``."""
    values = "[" + ", ".join(c.value for c in conditions) + "]"
    guard = _and(*(c.guard for c in conditions))
    none = " and ".join(f"$not($c[{k}])" for k in range(len(conditions))) or "true"
    if all_matching:
        routed = _per_item(f'($c := {values}; {{"c": $c, "n": {none}, "j": {_item("$json")}}})')
        ports = []
        for port in range(outputs):
            rules = [k for k, t in enumerate(targets) if t == port]
            test = " or ".join(f"c[{k}]" for k in rules) or "false"
            if fallback == port:
                test = f"({test}) or n"
            ports.append(f"[$m[{test}].j]")
    else:
        first = "".join(f"$c[{k}] ? {t} : " for k, t in enumerate(targets))
        last = str(fallback) if fallback is not None else "-1"
        routed = _per_item(f'($c := {values}; {{"o": {first}{last}, "j": {_item("$json")}}})')
        ports = [f"[$m[o = {port}].j]" for port in range(outputs)]
    return Built(guard, f"$m := {routed}; ", ports)


_FLAT_NAME = re.compile(r"^[^.\[\]]+$")
# lodash paths sfnflow reproduces: keys joined by dots, no brackets, quotes or index keys
_DOTTED_NAME = re.compile(r"""^[^.\[\]"'\\]+(\.[^.\[\]"'\\]+)+$""")
_FORBIDDEN = frozenset({"__proto__", "constructor", "prototype"})
_V1_KINDS = (("boolean", False), ("number", 0), ("string", ""))


def _field_name(name: Any, dot_notation: bool) -> list[str]:
    """The keys of the path a field name sets (one key without dot notation)."""
    if not isinstance(name, str) or name.startswith("=") or name == "" or name in _FORBIDDEN:
        raise Refused(f"the field name {name!r}")
    if not dot_notation or _FLAT_NAME.match(name):
        return [name]
    keys = name.split(".")
    if not _DOTTED_NAME.match(name) or any(k in _FORBIDDEN or k.isdigit() for k in keys):
        raise Refused(f"the dot-notation field name {name!r}")
    return keys


def _set_options(parameters: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    options = _static(parameters, "options", {}) or {}
    if not isinstance(options, dict) or set(options) - known:
        raise Refused(f"Set options {sorted(set(options) - known)}")
    return options


def _set_v1(version: float, parameters: Mapping[str, Any]) -> Built:
    options = _set_options(parameters, frozenset({"dotNotation"}))
    dot = options.get("dotNotation") is not False
    keep_only = _static(parameters, "keepOnlySet", False)
    values = _static_container(parameters, "values")
    fields: list[tuple[list[str], Translation]] = []
    for kind, default in _V1_KINDS:
        for entry in values.get(kind) or []:
            if not isinstance(entry, dict):
                raise Refused("a malformed value")
            name = _field_name(entry.get("name", "propertyName"), dot)
            value = _value(entry.get("value", default), "value")
            if kind == "boolean":
                value = _bind(value, "$jsTruthy($x)")
            elif kind == "number" and version >= 2:  # numeric text becomes a number
                value = _bind(value, "$jsNumber($x)",
                              '$not($type($x) = "string") or $jsNumeric($x)', value.kind)
            fields.append((name, value))
    return _set_item(fields, base="{}" if keep_only else "$json")


def _set_item(fields: list[tuple[list[str], Translation]], base: str) -> Built:
    """Fields written in order into (a copy of) the item, as lodash ``set`` does: a dotted
    name merges into an object on its way and replaces any other value there by ``{}``;
    an array on the way is left to the runner."""
    # a value must exist (the runner would store JavaScript's undefined): values of a
    # static type always do
    guards = [v.guard if v.kind != "any" else _and(v.guard, f"$exists({v.value})")
              for _, v in fields]
    steps, checks = [], []
    for keys, value in fields:
        if len(keys) > 1:
            checks.append(f"$ok := $ok and {_no_array_on(keys[:-1], '$j')}; ")
        steps.append(f"$j := {_set_path('$j', keys, value.value)}; ")
        checks.append(steps[-1])
    if any(len(keys) > 1 for keys, _ in fields):
        guards.append(f"($j := {base}; $ok := true; {''.join(checks)}$ok)")
    body = f"$j := {base}; {''.join(steps)}{_item('$j')}"
    return Built(_and(*guards), "", [_per_item(body)])


def _set_path(target: str, keys: list[str], value: str, depth: int = 0) -> str:
    key = string_literal(keys[0])
    if len(keys) == 1:
        return f"$merge([{target}, {{{key}: {value}}}])"
    child = f"$c{depth}"
    inner = _set_path(child, keys[1:], value, depth + 1)
    return (f"$merge([{target}, {{{key}: ({child} := $lookup({target}, {key}); "
            f'{child} := $type({child}) = "object" ? {child} : {{}}; {inner})}}])')


def _no_array_on(keys: list[str], target: str, depth: int = 0) -> str:
    """JSONata: no array where the path's intermediate keys lead (lodash would write a
    property onto it, which JSON cannot hold)."""
    child = f"$a{depth}"
    # $not(... = ...): JSONata's != is false when a side is undefined (a missing key)
    deeper = "" if len(keys) == 1 else \
        f' and ($not($type({child}) = "object") or ' \
        f"{_no_array_on(keys[1:], child, depth + 1)})"
    return (f"({child} := $lookup({target}, {string_literal(keys[0])}); "
            f'$not($type({child}) = "array"){deeper})')


_V3_TYPES = {"stringValue": "string", "numberValue": "number", "booleanValue": "boolean"}
_V3_DEFAULTS = {"stringValue": "", "numberValue": 0, "booleanValue": True}


def _set_v3(version: float, parameters: Mapping[str, Any]) -> Built:
    if _static(parameters, "mode", "manual") != "manual":
        raise Refused("Set in raw mode")
    options = _set_options(parameters, frozenset({"dotNotation", "ignoreConversionErrors"}))
    dot = options.get("dotNotation") is not False
    if version >= 3.3:
        entries = [(a.get("name", ""), a.get("type", "string"), a.get("value"))
                   for a in _static_list(_static_container(parameters, "assignments"),
                                         "assignments") if isinstance(a, dict)]
        include = _static(parameters, "include", "all") if \
            _static(parameters, "includeOtherFields", False) else "none"
    else:
        entries = []
        for entry in _static_list(_static_container(parameters, "fields"), "values"):
            key = entry.get("type", "stringValue") if isinstance(entry, dict) else None
            if key not in _V3_TYPES:
                raise Refused(f"a {key} field")
            entries.append((entry.get("name", ""), _V3_TYPES[key],
                            entry.get(key, _V3_DEFAULTS[key])))
        include = _static(parameters, "include", "all")
    if include not in ("all", "none"):
        raise Refused(f"include {include!r}")
    fields = [(_field_name(name, dot), _typed_field(version, type_, value))
              for name, type_, value in entries]
    return _set_item(fields, base="$json" if include == "all" else "{}")


def _typed_field(version: float, type_: Any, value: Any) -> Translation:
    """A v3 field in its declared type, guarded to values that need no conversion error
    (``typed.convert``: nullish stays null; a string field writes String() of a scalar)."""
    translated = _value(value, "value")
    if type_ == "string":  # v3.1+ keep null; undefined: the runner (it writes
        # "undefined" where n8n 1.123 writes null: peer_n8n_native.json)
        null = '$type($x) = "null" ? null : ' if version >= 3.1 else ""
        return _bind(translated, f"{null}$jsStr($x)", "$exists($x) and $jsStrable($x)",
                     "string")
    if type_ == "number":
        return _bind(translated, "$jsNullish($x) ? null : $jsNumber($x)",
                     '$jsNullish($x) or $type($x) = "number" or $jsNumeric($x)',
                     "number")  # or null
    if type_ == "boolean":
        return _bind(translated, "$jsNullish($x) ? null : $jsBoolean($x)",
                     "$jsNullish($x) or $jsBoolable($x)", "boolean")  # or null
    raise Refused(f"a {type_} field")


def _set(version: float, parameters: Mapping[str, Any]) -> Built:
    return _set_v1(version, parameters) if version < 3 else _set_v3(version, parameters)


_BUILDERS: dict[str, Callable[[float, Mapping[str, Any], int], Built]] = {
    IF: lambda v, p, _n: _branching(IF, v, p),
    FILTER: lambda v, p, _n: _branching(FILTER, v, p),
    SWITCH: _switch,
    SET: lambda v, p, _n: _set(v, p),
}


def build(type_name: str, version: float, parameters: Mapping[str, Any], outputs: int
          ) -> Built | str:
    """The node's native form, or why it stays on the runner."""
    builder = _BUILDERS.get(type_name)
    if builder is None:
        return f"{type_name} has no native lowering"
    try:
        built = builder(version, parameters, outputs)
    except Refused as refused:
        return str(refused)
    if len(built.guard) + sum(map(len, built.ports)) > _MAX_JSONATA:
        return "its JSONata would be too long"
    return built


_MAX_JSONATA = 60_000  # per state field; Step Functions bounds a definition at 1 MiB


# --------------------------------------------------------------------------- refusals


def refusal(graph: Graph, node: int) -> str | None:
    """Why an n8n node cannot be native (None: it can); the generic reasons (retry,
    pinned, onError...) are ``compiler.native_check``'s."""
    spec = graph.nodes[node]
    if spec.type not in TYPES:
        return f"{spec.type} has no native lowering"
    if spec.alwaysOutputData or spec.executeOnce:
        return "alwaysOutputData" if spec.alwaysOutputData else "executeOnce"
    if len(graph.in_edges[node]) != 1:
        return "more than one incoming connection (n8n runs the node once per source)"
    keep = _on_runner_for_reads(graph)
    if keep is None:
        return "a node is read by a computed name ($('...') or $node[...])"
    if node in keep:
        return "read by name ($('X'), $node[\"X\"]) or between such a node and its reader"
    built = _built(graph, node)
    return built if isinstance(built, str) else None


def _built(graph: Graph, node: int) -> Built | str:
    cache = _build_cache(graph)
    if node not in cache:
        params = graph.params[node]
        assert isinstance(params, N8nParams)
        cache[node] = build(graph.type_of(node), params.typeVersion, params.parameters,
                            len(graph.outputs[node]))
    return cache[node]


@per_graph
def _build_cache(graph: Graph) -> dict[int, Built | str]:
    return {}
