"""jsonata-python made to agree with the JavaScript JSONata that Step Functions runs.

Native states are evaluated by Step Functions' JSONata (the 2.0.6 specification, in
JavaScript); runner nodes, the compiler's constant folding and the local runtime's native
states by jsonata-python. Where the two differ on the same expression and input, a node
would compute one thing locally or on the runner and another in a native state on AWS.
``tests/functions/test_jsonata_differential.py`` runs a corpus through both engines; each
difference found is either fixed here or kept off native states
(``compiler.lowering.native.JS_DIVERGENT_FUNCTIONS``); docs/jsonata.md lists them.

Fixed here, for every jsonata-python evaluation in the process (``install`` is idempotent
and runs when this module is imported, which ``compiler.expressions`` does):

- ``$sort`` with a comparator is the stable merge sort of jsonata-js (ties keep their
  order; jsonata-python reversed them);
- numbers become text as in JavaScript (``$string``, ``&``): 15 significant digits, then
  ECMAScript's Number-to-String (``1e+21``, but ``100000000000000000000``), nested numbers
  included, non-ASCII text unescaped;
- ``%`` on fractions keeps the fraction (jsonata-python truncated the result to an int);
- ``$number`` of a string accepts only JSON number syntax and 0x/0o/0b literals;
- ``$distinct`` and ``in`` compare as JavaScript does: ``true`` is not ``1``;
- regex literals may name their groups, ``(?<name>...)`` (``regex_engine``).
"""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import jsonata
from jsonata import functions as _functions
from jsonata import jsonata as _jsonata
from jsonata import parser as _parser
from jsonata import regex_engine as _regex
from jsonata import utils as _utils

_JSON_NUMBER = re.compile(r"^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?$")
_RADIX_NUMBER = re.compile(r"^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_installed = False


def js_number_text(value: float) -> str:
    """``JSON.stringify(Number(value.toPrecision(15)))`` — jsonata-js's number text."""
    if value == 0:
        return "0"
    try:
        exact = decimal.Decimal(float(value))
    except OverflowError:  # an integer beyond any double: JavaScript has no such number
        return str(value)
    digits = exact.adjusted() + 1  # digits before the point
    rounded = float(exact.quantize(decimal.Decimal(1).scaleb(digits - 15),
                                   rounding=decimal.ROUND_HALF_UP))
    sign, text_digits, exponent = decimal.Decimal(repr(rounded)).normalize().as_tuple()
    figures = "".join(map(str, text_digits))
    k, n = len(figures), int(exponent) + len(figures)
    if k <= n <= 21:
        body = figures + "0" * (n - k)
    elif 0 < n <= 21:
        body = figures[:n] + "." + figures[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + figures
    else:
        mantissa = figures if k == 1 else figures[0] + "." + figures[1:]
        body = f"{mantissa}e{'+' if n - 1 > 0 else '-'}{abs(n - 1)}"
    return ("-" if sign else "") + body


def _json_text(value: Any, indent: str | None, depth: int = 0) -> str:
    """``JSON.stringify`` as jsonata-js's ``$string`` calls it (numbers via
    ``js_number_text``, functions as ``""``)."""
    if value is None or value is _utils.Utils.NULL_VALUE:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "null"
        return js_number_text(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, _jsonata.Jsonata.JFunction | _parser.Parser.Symbol):
        return '""'
    pad = "" if indent is None else "\n" + indent * (depth + 1)
    end = "" if indent is None else "\n" + indent * depth
    colon = ":" if indent is None else ": "
    if isinstance(value, dict):
        if not value:
            return "{}"
        fields = [json.dumps(str(k), ensure_ascii=False) + colon
                  + _json_text(v, indent, depth + 1) for k, v in value.items()]
        return "{" + pad + ("," + pad).join(fields) + end + "}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        return "[" + pad + ("," + pad).join(
            _json_text(v, indent, depth + 1) for v in value) + end + "]"
    return json.dumps(value, ensure_ascii=False)


def _string(arg: Any, prettify: bool) -> str:
    return _json_text(arg, "  " if prettify else None)


def _sort(arr: Sequence[Any] | None, comparator: Any | None) -> Sequence[Any] | None:
    """jsonata-js's ``$sort``: a merge sort that takes the right element only when
    ``comparator(left, right)`` is true, so equal elements keep their order."""
    if arr is None or len(arr) <= 1 or comparator is None:
        unchanged: Sequence[Any] | None = _original_sort(arr, comparator)
        return unchanged
    if isinstance(getattr(comparator, "__self__", None), _jsonata.Jsonata.ComparatorWrapper):
        order_by = comparator  # the ^(...) operator's: -1, 0 or 1, as in Java's compare

        def after(left: Any, right: Any) -> bool:
            return bool(order_by(left, right) > 0)
    else:
        swap = _functions.Functions.Comparator(comparator)._comparator

        def after(left: Any, right: Any) -> bool:
            result = _functions.Functions.func_apply(swap, [left, right])
            return isinstance(result, list) or bool(result)  # JavaScript's truthiness

    def merge_sort(items: list[Any]) -> list[Any]:
        if len(items) < 2:
            return items
        left, right = merge_sort(items[:len(items) // 2]), merge_sort(items[len(items) // 2:])
        merged: list[Any] = []
        i = j = 0
        while i < len(left) and j < len(right):
            if after(left[i], right[j]):
                merged.append(right[j])
                j += 1
            else:
                merged.append(left[i])
                i += 1
        return merged + left[i:] + right[j:]

    return merge_sort(list(arr))


def _number(arg: Any) -> Any:
    if isinstance(arg, str) and not (_JSON_NUMBER.match(arg) or _RADIX_NUMBER.match(arg)):
        return _original_number("not a number")  # raises D3030 as jsonata-js does
    return _original_number(arg)


def _strictly_equal(a: Any, b: Any, deep: bool) -> bool:
    """JavaScript's ``===`` (``deep``: jsonata-js's deep equality of arrays and objects):
    ``true`` is not ``1``, as it is in Python."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        if not deep:
            return a is b
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(_strictly_equal(a[k], b[k], True) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(
                _strictly_equal(x, y, True) for x, y in zip(a, b, strict=True))
        return False
    return bool(a == b)


def _distinct(arr: Any) -> Any:
    if not isinstance(arr, list) or len(arr) <= 1:
        return _original_distinct(arr)
    results = _utils.Utils.create_sequence() if isinstance(arr, _utils.Utils.JList) else []
    for element in arr:
        if not any(_strictly_equal(element, seen, True) for seen in results):
            results.append(element)
    return results


def _includes(self: Any, lhs: Any, rhs: Any) -> bool:
    if lhs is None or rhs is None:
        return False
    return any(_strictly_equal(item, lhs, False) for item in (rhs if isinstance(rhs, list)
                                                               else [rhs]))


def regex_engine(pattern: str, flags: Any) -> Any:
    """jsonata-python's regex engine, with JavaScript's named groups ``(?<name>...)``."""
    return _regex.default_regex_engine(_NAMED_GROUP.sub("(?P<", pattern), flags)


def _numeric(original: Callable[..., Any]) -> Callable[..., Any]:
    def evaluate_numeric_expression(self: Any, lhs: Any, rhs: Any, op: Any) -> Any:
        result = original(self, lhs, rhs, op)
        if op == "%" and isinstance(lhs, int | float) and isinstance(rhs, int | float) \
                and not isinstance(lhs, bool) and not isinstance(rhs, bool) and rhs != 0:
            exact = math.fmod(lhs, rhs)  # JavaScript's %: the sign of the dividend
            return int(exact) if exact == int(exact) else exact
        return result

    return evaluate_numeric_expression


_original_sort = _functions.Functions.sort
_original_number = _functions.Functions.number
_original_distinct = _functions.Functions.distinct


def install() -> None:
    """Patch jsonata-python in this process (idempotent)."""
    global _installed
    if _installed:
        return
    functions = _functions.Functions
    functions._string = staticmethod(_string)
    functions.sort = staticmethod(_sort)
    functions.number = staticmethod(_number)
    functions.distinct = staticmethod(_distinct)
    engine = _jsonata.Jsonata
    engine.evaluate_numeric_expression = _numeric(engine.evaluate_numeric_expression)
    engine.define_function("sort", "<af?:a>")  # built-ins are bound when jsonata loads
    engine.define_function("number", "<(nsb)-:n>")
    engine.define_function("distinct", "<x:x>")
    engine.evaluate_includes_expression = _includes
    _installed = True


def compile_expression(source: str) -> Any:
    """A jsonata-python expression that evaluates as jsonata-js would (see above)."""
    install()
    return jsonata.Jsonata(source, regex_engine)


install()
