"""Condition semantics shared by IF, Filter and Switch, in both of n8n's formats.

* The **legacy** format (IF v1, Filter v1, Switch v1/v2 rules): a data type, an operation
  name and two values, compared with the plain JavaScript operators n8n's code uses
  (``===`` for ``equal``, ``(v || 0) < (w || 0)`` for ``smaller``...). ``LEGACY_DEFAULT_OPERATION``
  holds the default operation per data type when a condition omits it.
* The **filter** format (IF v2+, Filter v2, Switch v3 rules): ``{options, conditions,
  combinator}`` where each condition names an operator ``{type, operation}``. Both sides
  are first validated against the operator's type: ``strict`` refuses a value of another
  type with n8n's "Wrong type" message, ``loose`` converts it ("Conversion error" when it
  cannot). ``options.version`` 2 (IF v2.2+) parses loose booleans (``"false"``, ``0``).

Both take values already evaluated for the item (``NodeCall.parameter``); nothing here
evaluates expressions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from functions.n8n.errors import NodeOperationError, NodeParameterError
from functions.n8n.jsvalues import (
    UNDEFINED,
    compare,
    is_nan,
    is_nullish,
    js_number,
    js_string,
    json_stringify,
    millis,
    parse_datetime,
    parse_regex_literal,
    regex_test,
    strict_equal,
    truthy,
    typeof,
)
from functions.n8n.typed import parse_boolean

LEGACY_DATA_TYPES = ("boolean", "dateTime", "number", "string")
LEGACY_DEFAULT_OPERATION = {
    "boolean": "equal",
    "dateTime": "after",
    "number": "smaller",
    "string": "equal",
}
LEGACY_DEFAULT_VALUE2 = {"boolean": False, "dateTime": "", "number": 0, "string": ""}


# --------------------------------------------------------------------------- legacy format


def _legacy_datetime(node: str, value: Any) -> float:
    result: float | None = None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        result = millis(parsed) if parsed else None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    if result is None or is_nan(result):
        raise NodeOperationError(node, f'The value "{js_string(value)}" is not a valid DateTime.')
    return result


def _is_empty(value: Any) -> bool:
    if is_nullish(value) or value == "" or is_nan(value):
        return True
    return isinstance(value, (dict, list)) and len(value) == 0


def _or_zero(value: Any) -> Any:
    return value if truthy(value) else 0


def _text(value: Any) -> str:
    return js_string(value) if truthy(value) else ""


def legacy_compare(node: str, data_type: str, operation: str, value1: Any, value2: Any) -> bool:
    """One IF v1 / Filter v1 / Switch v1-v2 comparison."""
    if data_type == "dateTime":
        value1 = _legacy_datetime(node, value1)
        value2 = _legacy_datetime(node, value2)
    if operation == "equal":
        return strict_equal(value1, value2)
    if operation == "notEqual":
        return not strict_equal(value1, value2)
    if operation in ("smaller", "before"):
        return compare(_or_zero(value1), _or_zero(value2), "<")
    if operation == "smallerEqual":
        return compare(_or_zero(value1), _or_zero(value2), "<=")
    if operation in ("larger", "after"):
        return compare(_or_zero(value1), _or_zero(value2), ">")
    if operation == "largerEqual":
        return compare(_or_zero(value1), _or_zero(value2), ">=")
    if operation == "contains":
        return _text(value2) in _text(value1)
    if operation == "notContains":
        return _text(value2) not in _text(value1)
    if operation == "startsWith":
        return js_string(value1).startswith(js_string(value2))
    if operation == "notStartsWith":
        return not js_string(value1).startswith(js_string(value2))
    if operation == "endsWith":
        return js_string(value1).endswith(js_string(value2))
    if operation == "notEndsWith":
        return not js_string(value1).endswith(js_string(value2))
    if operation == "isEmpty":
        return _is_empty(value1)
    if operation == "isNotEmpty":
        return not _is_empty(value1)
    if operation == "regex":
        return regex_test(parse_regex_literal(js_string(value2)), _text(value1))
    if operation == "notRegex":
        return not regex_test(parse_regex_literal(js_string(value2)), _text(value1))
    raise NodeOperationError(node, f'The operation "{operation}" is not known!')


def legacy_conditions(node: str, conditions: Mapping[str, Any], combine_any: bool) -> bool:
    """IF v1 / Filter v1: every data type's conditions, combined with all (AND) or any (OR)."""
    for data_type in LEGACY_DATA_TYPES:
        for condition in conditions.get(data_type) or []:
            operation = condition.get("operation", LEGACY_DEFAULT_OPERATION[data_type])
            value1 = condition.get("value1", LEGACY_DEFAULT_VALUE2[data_type])
            value2 = condition.get("value2", LEGACY_DEFAULT_VALUE2[data_type])
            passed = legacy_compare(node, data_type, operation, value1, value2)
            if passed and combine_any:
                return True
            if not passed and not combine_any:
                return False
    return not combine_any


# --------------------------------------------------------------------------- filter format


@dataclass(frozen=True)
class FilterOptions:
    case_sensitive: bool = True
    strict: bool = True
    version: int = 1


class FilterTypeError(NodeOperationError):
    """A condition's value does not have (or convert to) its operator's type."""

    error_type = "N8n.FilterTypeError"


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _parse_array(value: Any) -> tuple[bool, Any]:
    if isinstance(value, list):
        return True, value
    for text in (js_string(value), js_string(value).replace("'", '"')):
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        return (True, parsed) if isinstance(parsed, list) else (False, None)
    return False, None


def _parse_object(value: Any) -> tuple[bool, Any]:
    if isinstance(value, dict):
        return True, value
    try:
        parsed = json.loads(js_string(value))
    except ValueError:
        return False, None
    return (True, parsed) if isinstance(parsed, dict) else (False, None)


def parse_typed(value: Any, type_: str, strict: bool, version: int = 1) -> tuple[bool, Any]:
    """n8n's ``validateFieldType(..., {strict, parseStrings: true})`` for filter operands."""
    if type_ == "any" or is_nullish(value):
        return True, value
    kind = typeof(value)
    if type_ == "string":
        if strict and kind != "string":
            return False, None
        if isinstance(value, (dict, list)):
            return True, json_stringify(value)
        return True, js_string(value)
    if type_ == "number":
        if strict and kind != "number":
            return False, None
        number = js_number(value)
        return (False, None) if is_nan(number) else (True, number)
    if type_ == "boolean":
        if strict and kind != "boolean":
            return False, None
        if not strict and version < 2:
            return True, truthy(value)
        ok, parsed = parse_boolean(value)
        if not ok and not strict:
            return True, truthy(value)
        return ok, parsed
    if type_ == "dateTime":
        parsed = parse_datetime(value) if not isinstance(value, (int, float, dict, list)) else None
        return (parsed is not None), parsed
    if type_ == "array":
        if strict and not isinstance(value, list):
            return False, None
        return _parse_array(value)
    if type_ == "object":
        if strict and not isinstance(value, (dict, list)):
            return False, None
        return _parse_object(value)
    return True, value


def _type_error(
    node: str, type_: str, value: Any, options: FilterOptions, index: int, item_index: int
) -> FilterTypeError:
    from_type = "object" if isinstance(value, (dict, list)) and value is not None else typeof(value)
    if value is None:
        from_type = "object"
    shown = js_string(value)
    suffix = f"[condition {index}, item {item_index}]"
    if options.strict:
        message = (
            f"Wrong type: '{shown}' is {_article(from_type)} "
            f"but was expecting {_article(type_)} {suffix}"
        )
    else:
        message = (
            f"Conversion error: the {from_type} '{shown}' "
            f"can't be converted to {_article(type_)} {suffix}"
        )
    return FilterTypeError(
        node, message, item_index=item_index, description="Try changing the type of comparison."
    )


def filter_condition(
    node: str,
    condition: Mapping[str, Any],
    options: FilterOptions,
    index: int = 0,
    item_index: int = 0,
) -> bool:
    """One condition of the filter format (values already evaluated)."""
    operator = condition.get("operator") or {}
    type_ = operator.get("type", "string")
    operation = operator.get("operation", "equals")
    right_type = operator.get("rightType") or type_
    raw_left = condition.get("leftValue", UNDEFINED)
    raw_right = condition.get("rightValue", UNDEFINED)
    ok_left, left = parse_typed(raw_left, type_, options.strict, options.version)
    if not ok_left:
        raise _type_error(node, type_, raw_left, options, index, item_index)
    ok_right, right = parse_typed(raw_right, right_type, options.strict, options.version)
    if not ok_right and not operator.get("singleValue"):
        raise _type_error(node, right_type, raw_right, options, index, item_index)

    exists = not is_nullish(left)
    if operation == "exists":
        return exists
    if operation == "notExists":
        return not exists
    ignore_case = not options.case_sensitive
    if type_ == "string":
        return _string_op(operation, left, right, ignore_case)
    if type_ == "number":
        return _number_op(operation, left, right)
    if type_ == "dateTime":
        if left is None or right is None or left is UNDEFINED or right is UNDEFINED:
            return False
        return _number_op(_DATE_OPS.get(operation, operation), millis(left), millis(right))
    if type_ == "boolean":
        if operation == "true":
            return truthy(left)
        if operation == "false":
            return not truthy(left)
        if operation == "equals":
            return strict_equal(left, right)
        if operation == "notEquals":
            return not strict_equal(left, right)
        return False
    if type_ == "array":
        return _array_op(operation, [] if is_nullish(left) else left, right, ignore_case)
    if type_ == "object":
        empty = not truthy(left) or len(left) == 0
        if operation == "empty":
            return empty
        if operation == "notEmpty":
            return not empty
    return False


_DATE_OPS = {
    "after": "gt",
    "before": "lt",
    "afterOrEquals": "gte",
    "beforeOrEquals": "lte",
}


def _string_op(operation: str, left: Any, right: Any, ignore_case: bool) -> bool:
    if ignore_case:
        if isinstance(left, str):
            left = left.lower()
        if isinstance(right, str) and operation not in ("regex", "notRegex"):
            right = right.lower()
    left = "" if is_nullish(left) else left
    right = "" if is_nullish(right) else right
    table: dict[str, Callable[[], bool]] = {
        "empty": lambda: len(left) == 0,
        "notEmpty": lambda: len(left) != 0,
        "equals": lambda: left == right,
        "notEquals": lambda: left != right,
        "contains": lambda: right in left,
        "notContains": lambda: right not in left,
        "startsWith": lambda: left.startswith(right),
        "notStartsWith": lambda: not left.startswith(right),
        "endsWith": lambda: left.endswith(right),
        "notEndsWith": lambda: not left.endswith(right),
        "regex": lambda: regex_test(parse_regex_literal(right), left),
        "notRegex": lambda: not regex_test(parse_regex_literal(right), left),
    }
    check = table.get(operation)
    return bool(check()) if check else False


def _number_op(operation: str, left: Any, right: Any) -> bool:
    if operation == "equals":
        return strict_equal(left, right)
    if operation == "notEquals":
        return not strict_equal(left, right)
    symbols = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
    if operation in symbols:
        if is_nullish(left) or is_nullish(right):
            return compare(js_number(left), js_number(right), symbols[operation])
        return compare(left, right, symbols[operation])
    return False


def _array_op(operation: str, left: list[Any], right: Any, ignore_case: bool) -> bool:
    if operation in ("contains", "notContains"):
        if ignore_case and isinstance(right, str):
            right = right.lower()
        found = any(strict_equal(element, right) for element in left)
        return found if operation == "contains" else not found
    length = len(left)
    sizes = {
        "lengthEquals": lambda n: length == n,
        "lengthNotEquals": lambda n: length != n,
        "lengthGt": lambda n: length > n,
        "lengthLt": lambda n: length < n,
        "lengthGte": lambda n: length >= n,
        "lengthLte": lambda n: length <= n,
    }
    if operation == "empty":
        return length == 0
    if operation == "notEmpty":
        return length != 0
    if operation in sizes:
        number = js_number(right)
        return False if is_nan(number) else bool(sizes[operation](number))
    return False


def filter_options(
    stored: Mapping[str, Any] | None,
    *,
    ignore_case: bool | None = None,
    loose: bool | None = None,
    version: int | None = None,
) -> FilterOptions:
    """The options a filter runs with: the ones stored in the value, else the node's.

    The editor writes ``caseSensitive``/``typeValidation`` into the filter value from the
    node's own parameters (``options.ignoreCase``, ``looseTypeValidation``); n8n's engine
    then runs with the stored ones (a node-level flag does not override a stored
    ``typeValidation: strict``: checked with n8n 1.123). Older documents store neither, and
    then the node-level parameters decide.
    """
    stored = stored or {}
    if "caseSensitive" in stored:
        case_sensitive = stored["caseSensitive"]
    else:
        case_sensitive = True if ignore_case is None else not ignore_case
    strict = stored["typeValidation"] != "loose" if "typeValidation" in stored else not loose
    stored_version = stored.get("version", 1)
    return FilterOptions(
        case_sensitive=bool(case_sensitive),
        strict=strict,
        version=int(version if version is not None else stored_version or 1),
    )


def run_filter(
    node: str, value: Mapping[str, Any], options: FilterOptions, item_index: int = 0
) -> bool:
    """A whole filter value: its conditions combined with ``and`` (default) or ``or``."""
    if "options" not in value:
        # n8n 1.123 fails on a filter value without options (a TypeError in its code)
        raise NodeParameterError(node, "conditions.options", "the filter value has no options")
    conditions = value.get("conditions") or []
    combinator = value.get("combinator", "and")
    results = (
        filter_condition(node, condition, options, index, item_index)
        for index, condition in enumerate(conditions)
    )
    if combinator == "or":
        return any(results)
    return all(results)
