"""n8n expressions as JSONata, for the small subset JSONata can reproduce exactly.

n8n's expressions are JavaScript (``={{ $json.a > 1 }}``, ``=Hi {{ $json.name }}``); the node
runner evaluates them on QuickJS (``functions/js``). A native state (``compiler.lowering.
n8n_native``) must compute the same value in JSONata, on AWS (JavaScript JSONata) and
locally (jsonata-python aligned by ``compiler.jsonata_compat``). JavaScript and JSONata
disagree on much of the obvious mapping (``+`` concatenates strings in JS; JSONata maps a
path over arrays; truthiness; ``==`` coercions; number-to-text; ``1/0``), so a translation
is two JSONata expressions over ``$json`` and ``$index``:

* ``guard``: true when, for this item, the value below is exactly JavaScript's. It is false
  for data outside the exact domain: an operand of ``-`` that is not a number, ``<`` between
  strings, text of a number JavaScript would write with more digits than JSONata, an
  intermediate path step that is not an object (JavaScript throws or reads a prototype),
  ``==`` between different types... The guard never fails: it reads a value only once the
  guards of its parts hold.
* ``value``: JavaScript's value (JSONata's "nothing" for ``undefined``), evaluated only
  when the guard holds.

A node whose items all pass their guards runs natively; otherwise the whole node runs on
the runner, whose result is n8n's by construction (``compiler.lowering.n8n_native``). So a
guard may be stricter than necessary, never looser.

The subset: ``$json.a.b`` / ``$json["a"]`` paths (no numeric or prototype keys), string,
number, boolean and null literals, ``$itemIndex``, ``=== !== == != < <= > >=``,
``+ - * / %`` (unary ``-``), ``! && ||``, ternaries and parentheses. Anything else (calls,
``$('X')``, ``$node``, ``$now``, optional chaining, regexes, template literals, ``??``) is
not translatable (``translate`` returns None) and the node stays on the runner.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from compiler.jsonata_text import text

#: JSONata helper functions a translation calls; a state defines them once (``HELPERS``).
HELPERS = (
    # JavaScript's truthiness of a JSON value (undefined: nothing)
    '$jsTruthy := function($v) { $type($v) in ["array", "object"] or ($exists($v) and '
    '$v != null and $v != false and $v != 0 and $v != "") }; '
    # JavaScript's String() of a string, null, boolean or a number that passed $jsNumText
    '$jsStr := function($v) { $type($v) = "string" ? $v : $type($v) = "null" ? "null" : '
    '$type($v) = "number" and $v = 0 ? "0" : $string($v) }; '
    # a number JSONata writes as JavaScript does: no exponent, <= 15 significant digits
    '$jsNumText := function($v) { $type($v) = "number" and ($v = 0 or ($abs($v) >= 1e-6 '
    'and $abs($v) < 1e21 and $number($string($v)) = $v)) }; '
    # operands String() handles exactly: strings, null, booleans, such numbers
    '$jsStrable := function($v) { $type($v) in ["string", "null", "boolean"] or '
    '$jsNumText($v) }; '
    # a number small enough that + - of two never overflows, nor * / with the bounds below
    '$jsSmall := function($v) { $type($v) = "number" and $abs($v) <= 1e150 }; '
    # n8n's template part: undefined and null are empty
    '$jsPart := function($v) { $exists($v) and $type($v) != "null" ? $jsStr($v) : "" }; '
    '$jsPrim := function($v) { $not($exists($v)) or $type($v) in ["string", "number", '
    '"boolean", "null"] }; '
    '$jsNullish := function($v) { $not($exists($v)) or $type($v) = "null" }; '
    # text Number() and JSONata's $number read alike: plain decimals, integers to 15 digits
    '$jsNumeric := function($v) { $type($v) = "string" and '
    r'$contains($v, /^(-?0\.[0-9]+|-?[1-9][0-9]{0,14}(\.[0-9]+)?|0)$/) }; '
    '$jsNumber := function($v) { $type($v) = "string" ? $number($v) : $v }; '
    # n8n's tryToParseBoolean, for the values it accepts that need no number parsing
    '$jsBoolText := function($v) { $type($v) = "string" and $lowercase($v) in ["true", '
    '"false"] }; '
    '$jsBoolean := function($v) { $type($v) = "boolean" ? $v : $type($v) = "number" ? '
    '$v = 1 : $lowercase($v) = "true" }; '
    '$jsBoolable := function($v) { $type($v) = "boolean" or ($type($v) = "number" and '
    '($v = 0 or $v = 1)) or $jsBoolText($v) }; '
)

PRIMITIVE_KINDS = frozenset({"string", "number", "boolean", "null"})
# Own keys of JSON objects only: names that JavaScript objects inherit read a prototype.
_PROTOTYPE_KEYS = frozenset({
    "__proto__", "constructor", "prototype", "hasOwnProperty", "isPrototypeOf",
    "propertyIsEnumerable", "toLocaleString", "toString", "valueOf", "__defineGetter__",
    "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
})
_MAX_SOURCE = 2000  # longer expressions stay on the runner (guards grow with nesting)
_MAX_SAFE = 2**53


class NotTranslatable(Exception):  # noqa: N818 - internal control flow, never escapes
    """The expression is outside the exact subset."""


@dataclass(frozen=True)
class Translation:
    """JSONata of a JavaScript value (see the module docstring); ``kind`` is its static
    type: string, number, boolean, null (never undefined), or any (read from the item: any
    type, or undefined)."""

    value: str
    guard: str
    kind: str


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>\$?[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.()\[\]])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0",
            "\\": "\\", "'": "'", '"': '"'}


def _string_value(quoted: str) -> str:
    out: list[str] = []
    body = quoted[1:-1]
    position = 0
    while position < len(body):
        char = body[position]
        if char != "\\":
            out.append(char)
            position += 1
            continue
        escape = body[position + 1]
        if escape == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[position + 2:position + 6]):
            code = int(body[position + 2:position + 6], 16)
            if 0xD800 <= code <= 0xDFFF:
                raise NotTranslatable("a surrogate escape")
            out.append(chr(code))
            position += 6
            continue
        if escape == "0" and body[position + 2:position + 3].isdigit():
            raise NotTranslatable("an octal escape")
        if escape not in _ESCAPES:
            raise NotTranslatable(f"the escape \\{escape}")
        out.append(_ESCAPES[escape])
        position += 2
    return "".join(out)


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise NotTranslatable(f"unexpected {source[position]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


# --------------------------------------------------------------------------- parser


def all_of(*guards: str) -> str:
    """Guards in order, each read only when the ones before hold (a ternary chain)."""
    real = [g for g in guards if g != "true"]
    if not real:
        return "true"
    result = real[-1]
    for guard in reversed(real[:-1]):
        result = f"({guard} ? {result} : false)"
    return result


class _Parser:
    """Precedence climbing over the subset, building translations bottom up."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.position = 0
        self.counter = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise NotTranslatable("unexpected end")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise NotTranslatable(f"expected {expected!r}, found {token[1]!r}")
        self.position += 1
        return token

    def variable(self) -> str:
        self.counter += 1
        return f"$v{self.counter}"

    def parse(self) -> Translation:
        result = self.ternary()
        if self.position != len(self.tokens):
            raise NotTranslatable(f"unexpected {self.tokens[self.position][1]!r}")
        return result

    def ternary(self) -> Translation:
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        c = self.variable()
        test = f"$jsTruthy({c})"
        return Translation(
            f"({c} := {condition.value}; {test} ? {yes.value} : {no.value})",
            all_of(condition.guard, f"({c} := {condition.value}; {test} ? {yes.guard} : "
                                  f"{no.guard})"),
            yes.kind if yes.kind == no.kind else "any")

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",), ("&&",), ("===", "!==", "==", "!="), ("<", "<=", ">", ">="), ("+", "-"),
        ("*", "/", "%"))

    def binary(self, level: int) -> Translation:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            operator = self.take()[1]
            right = self.binary(level + 1)
            left = combine(operator, left, right)
        return left

    def unary(self) -> Translation:
        if self.peek() == "!":
            self.take()
            operand = self.unary()
            return Translation(f"$not($jsTruthy({operand.value}))", operand.guard, "boolean")
        if self.peek() == "-":
            self.take()
            operand = self.unary()
            a = self.variable()
            return Translation(f"(-({operand.value}))",
                               all_of(operand.guard, f"({a} := {operand.value}; "
                                                   f"$jsSmall({a}))"), "number")
        return self.primary()

    def primary(self) -> Translation:
        kind, token = self.take()
        if token == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if kind == "number":
            return _number(token)
        if kind == "string":
            value = _string_value(token)
            return Translation(text(value), "true", "string")
        if token in ("true", "false", "null"):
            return Translation(token, "true", "boolean" if token != "null" else "null")
        if token == "$itemIndex":
            return Translation("$index", "true", "number")
        if token == "$json":
            return self.path()
        raise NotTranslatable(f"{token!r} is outside the subset")

    def path(self) -> Translation:
        value, guards = "$json", []
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, key = self.take()
                if kind != "name" or key.startswith("$"):
                    raise NotTranslatable(f"the key {key!r}")
            else:
                kind, quoted = self.take()
                if kind != "string":
                    raise NotTranslatable("a computed key")
                key = _string_value(quoted)
                self.take("]")
            if key in _PROTOTYPE_KEYS or key.isdigit() or key == "":
                raise NotTranslatable(f"the key {key!r}")
            if value != "$json":  # $json itself is always an object
                guards.append(f'$type({value}) = "object"')
            value = f"$lookup({value}, {text(key)})"
        if self.peek() == "(":
            raise NotTranslatable("a method call")
        return Translation(value, all_of(*guards), "any")


def combine(operator: str, left: Translation, right: Translation) -> Translation:
    """JavaScript's binary ``operator`` on two translations (block-scoped names: the
    operands' own bindings never meet these)."""
    a, b = "$l", "$r"
    bind = f"{a} := {left.value}; {b} := {right.value}; "
    both = all_of(left.guard, right.guard)

    def guarded(condition: str) -> str:
        return all_of(both, f"({bind}{condition})")

    if operator in ("&&", "||"):
        pick = f"$jsTruthy({a})" if operator == "&&" else f"$not($jsTruthy({a}))"
        return Translation(
            f"({a} := {left.value}; {pick} ? {right.value} : {a})",
            all_of(left.guard, f"({a} := {left.value}; {pick} ? {right.guard} : true)"),
            left.kind if left.kind == right.kind else "any")
    if operator in ("===", "!=="):
        same = (f"($not($exists({a})) and $not($exists({b}))) or ($exists({a}) and "
                f"$exists({b}) and $type({a}) = $type({b}) and {a} = {b})")
        negate = "" if operator == "===" else "$not"
        prims = "true" if PRIMITIVE_KINDS & {left.kind, right.kind} else \
            f"$jsPrim({a}) and $jsPrim({b})"  # objects compare by identity
        return Translation(f"({bind}{negate}({same}))", guarded(prims), "boolean")
    if operator in ("==", "!="):
        nullish = f"$jsNullish({a}) or $jsNullish({b})"
        same = f"(({nullish}) ? ($jsNullish({a}) and $jsNullish({b})) : {a} = {b})"
        negate = "" if operator == "==" else "$not"
        exact = (f"({nullish}) or ($type({a}) = $type({b}) and $type({a}) in "
                 '["string", "number", "boolean"])')
        return Translation(f"({bind}{negate}{same})", guarded(exact), "boolean")
    if operator in ("<", "<=", ">", ">="):
        numbers = f'$type({a}) = "number" and $type({b}) = "number"'
        return Translation(f"({bind}{a} {operator} {b})", guarded(numbers), "boolean")
    small = f"$jsSmall({a}) and $jsSmall({b})"
    if operator == "+":
        numeric = f'$type({a}) = "number" and $type({b}) = "number"'
        text_ = (f'($type({a}) = "string" or $type({b}) = "string") and '
                 f"$jsStrable({a}) and $jsStrable({b})")
        kind = "number" if left.kind == right.kind == "number" else \
            "string" if "string" in (left.kind, right.kind) else "any"
        return Translation(
            f"({bind}{numeric} ? {a} + {b} : $jsStr({a}) & $jsStr({b}))",
            guarded(f"({numeric} and {small}) or ({text_})"), kind)
    if operator in ("-", "*"):
        return Translation(f"({bind}{a} {operator} {b})", guarded(small), "number")
    # / and %: a divisor away from zero keeps the result finite (JSONata fails on
    # Infinity and NaN, JavaScript computes them)
    divisor = f"{small} and $abs({b}) >= 1e-150"
    return Translation(f"({bind}{a} {operator} {b})", guarded(divisor), "number")


def _number(token: str) -> Translation:
    if re.fullmatch(r"0\d+.*", token):
        raise NotTranslatable("a legacy octal literal")
    value = float(token)
    if not math.isfinite(value):
        raise NotTranslatable("an infinite literal")
    if value.is_integer() and abs(value) < _MAX_SAFE:
        return Translation(str(int(value)), "true", "number")
    if value.is_integer():
        raise NotTranslatable("an integer beyond 2^53")
    return Translation(json.dumps(value), "true", "number")


# --------------------------------------------------------------------------- public API


def translate_js(source: str) -> Translation | None:
    """One JavaScript expression (the inside of ``{{ }}``), or None outside the subset."""
    if len(source) > _MAX_SOURCE:
        return None
    try:
        return _Parser(source).parse()
    except (NotTranslatable, IndexError, ValueError):
        return None


def _parts(expression: str) -> list[tuple[bool, str]] | None:
    """``(is_code, text)`` parts of an n8n expression's body (after ``=``)."""
    parts: list[tuple[bool, str]] = []
    rest = expression
    while "{{" in rest:
        head, _, rest = rest.partition("{{")
        code, found, rest = rest.partition("}}")
        if not found or "{{" in code:
            return None
        if head:
            parts.append((False, head))
        parts.append((True, code))
    if "}}" in rest:
        return None
    if rest:
        parts.append((False, rest))
    return parts


def translate(parameter: object) -> Translation | None:
    """A parameter value as n8n resolves it for one item: a literal, a whole expression
    (``={{ js }}``: its value) or a template (text with ``{{ }}`` parts: a string, each
    part written as n8n's tmpl does, undefined and null as nothing). None when some part
    is outside the subset."""
    if not isinstance(parameter, str) or not parameter.startswith("="):
        return literal(parameter)
    parts = _parts(parameter[1:])
    if parts is None:
        return None
    if len(parts) == 1 and parts[0][0]:
        return translate_js(parts[0][1])
    values: list[str] = []
    guards: list[str] = []
    for is_code, part in parts:
        if not is_code:
            values.append(text(part))
            continue
        translated = translate_js(part)
        if translated is None:
            return None
        values.append(f"$jsPart({translated.value})")
        guards.append(all_of(translated.guard, f"($v := {translated.value}; $jsNullish($v) or "
                                             "$jsStrable($v))"))
    return Translation("(" + (" & ".join(values) or '""') + ")", all_of(*guards), "string")


def literal(value: object) -> Translation | None:
    """A JSON parameter value as it is (None for numbers JSONata cannot hold exactly)."""
    if isinstance(value, bool) or value is None:
        return Translation(json.dumps(value), "true", "boolean" if value is not None
                           else "null")
    if isinstance(value, int | float):
        if not math.isfinite(value) or (float(value).is_integer() and abs(value) > _MAX_SAFE):
            return None
        return Translation(json.dumps(value), "true", "number")
    if isinstance(value, str):
        return Translation(text(value), "true", "string")
    return None
