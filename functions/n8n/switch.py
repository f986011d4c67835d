"""Switch v1-v3: send each item to the output its rules or expression choose.

* **v1** (4 outputs) and **v2** (one output per rule): rules mode compares ``value1``
  (``dataType``, default ``number``) with each rule's ``value2`` using the legacy operations
  (``conditions.legacy_compare``); the first matching rule's ``output`` wins; unmatched
  items go to ``fallbackOutput`` (``-1``: dropped; v2 also ``"extra"``/``-3`` for an extra
  output after the rules). Expression mode evaluates ``output`` per item (v1: 4 outputs,
  v2: ``outputsAmount``).
* **v3**: ``rules.values[].conditions`` in the filter format; ``options.allMatchingOutputs``
  sends an item to every matching rule; ``options.fallbackOutput`` is ``"none"`` (default),
  ``"extra"`` (an output after the rules) or an output index; ``renameOutput``/
  ``outputKey`` name outputs (see ``output_names``). Expression mode uses ``numberOutputs``.

An output index outside the node's outputs is n8n's error (its typo "ouput" included);
with ``continueOnFail`` a failing item goes to output 0 as ``{"error": message}``.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.conditions import (
    LEGACY_DEFAULT_VALUE2,
    FilterOptions,
    filter_options,
    legacy_compare,
    run_filter,
)
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, paired
from functions.n8n.jsvalues import is_nan, js_number

_EXTRA = ("extra", -3, "-3")


def _route(item: Item, index: int) -> Item:
    return {"json": item["json"], "pairedItem": paired(index)}


def _check_output(call: NodeCall, output: Any, count: int) -> int:
    number = js_number(output)
    if is_nan(number) or number < 0 or number >= count or int(number) != number:
        raise NodeOperationError(
            call.node,
            f"The ouput {output} is not allowed. It has to be between 0 and {count - 1}!",
        )
    return int(number)


def _expression_outputs(call: NodeCall) -> int:
    if call.type_version >= 3:
        return int(call.parameter("numberOutputs", 0, 4))
    if call.type_version >= 2:
        return int(call.parameter("outputsAmount", 0, 4))
    return 4


def _failed(call: NodeCall, exc: NodeOperationError, index: int) -> Item:
    """With continueOnFail an item whose routing fails goes to output 0 as ``{error}``
    (legacy versions leave its pairedItem out, as n8n 1.123 does)."""
    if not call.continue_on_fail:
        raise exc
    failed: Item = {"json": {"error": exc.message}}
    if call.type_version >= 3:
        failed["pairedItem"] = paired(index)
    return failed


def _run_expression(call: NodeCall) -> list[list[Item]]:
    count = _expression_outputs(call)
    outputs: list[list[Item]] = [[] for _ in range(count)]
    for index, item in enumerate(call.items):
        try:
            target = _check_output(call, call.parameter("output", index), count)
        except NodeOperationError as exc:
            outputs[0].append(_failed(call, exc, index))
            continue
        outputs[target].append(_route(item, index))
    return outputs


def _legacy_output_count(call: NodeCall, rules: list[dict[str, Any]], fallback: Any) -> int:
    if call.type_version < 2:
        return 4
    highest = max([int(r.get("output", i)) for i, r in enumerate(rules)] + [len(rules) - 1])
    count = highest + 1
    if fallback in _EXTRA:
        count += 1
    elif isinstance(fallback, int) and fallback >= 0:
        count = max(count, fallback + 1)
    return max(count, 1)


def _legacy_target(call: NodeCall, data_type: str, count: int, index: int) -> int | None:
    """The output of the first matching v1/v2 rule for item ``index`` (None: no match)."""
    value1 = call.parameter("value1", index, LEGACY_DEFAULT_VALUE2.get(data_type))
    rules = call.parameter("rules.rules", index, []) or []
    for rule_index, rule in enumerate(rules):
        operation = rule.get("operation", "equal")
        value2 = rule.get("value2", LEGACY_DEFAULT_VALUE2.get(data_type))
        if legacy_compare(call.node, data_type, operation, value1, value2):
            return _check_output(call, rule.get("output", rule_index), count)
    return None


def _run_legacy_rules(call: NodeCall) -> list[list[Item]]:
    raw_rules = call.raw("rules.rules", []) or []
    fallback = call.parameter("fallbackOutput", 0, -1)
    count = _legacy_output_count(call, raw_rules, fallback)
    outputs: list[list[Item]] = [[] for _ in range(count)]
    data_type = call.parameter("dataType", 0, "number")
    for index, item in enumerate(call.items):
        try:
            target = _legacy_target(call, data_type, count, index)
        except NodeOperationError as exc:
            outputs[0].append(_failed(call, exc, index))
            continue
        if target is not None:
            outputs[target].append(_route(item, index))
        else:
            if fallback in _EXTRA:
                outputs[count - 1].append(_route(item, index))
            elif fallback is not None and js_number(fallback) >= 0:
                outputs[_check_output(call, fallback, count)].append(_route(item, index))
    return outputs


def _v3_filter_options(
    call: NodeCall, stored: dict[str, Any] | None, index: int
) -> FilterOptions:
    options = call.parameter("options", index, {}) or {}
    ignore_case = options.get("ignoreCase")
    if call.type_version < 3.2:
        loose = options.get("looseTypeValidation")
    else:
        loose = call.parameter("looseTypeValidation", index, None)
    return filter_options(
        stored,
        ignore_case=None if ignore_case is None else bool(ignore_case),
        loose=None if loose is None else bool(loose),
        version=2 if call.type_version >= 3.2 else None,
    )


def _run_v3_rules(call: NodeCall) -> list[list[Item]]:
    rule_count = len(call.raw("rules.values", []) or [])
    options = call.parameter("options", 0, {}) or {}
    fallback = options.get("fallbackOutput", "none")
    count = rule_count + (1 if fallback == "extra" else 0)
    outputs: list[list[Item]] = [[] for _ in range(max(count, 1))]
    for index, item in enumerate(call.items):
        item_options = call.parameter("options", index, {}) or {}
        all_matching = bool(item_options.get("allMatchingOutputs", False))
        matched = False
        try:
            rules = call.parameter("rules.values", index, []) or []
            for rule_index, rule in enumerate(rules):
                conditions = rule.get("conditions") or {}
                opts = _v3_filter_options(call, conditions.get("options"), index)
                if run_filter(call.node, conditions, opts, index):
                    matched = True
                    outputs[rule_index].append(_route(item, index))
                    if not all_matching:
                        break
        except NodeOperationError as exc:
            outputs[0].append(_failed(call, exc, index))
            continue
        if not matched and fallback not in (None, "none"):
            target = count - 1 if fallback == "extra" else _check_output(call, fallback, count)
            outputs[target].append(_route(item, index))
    return outputs


def output_names(call: NodeCall) -> list[str]:
    """The names n8n shows for a v3 rules node's outputs (renamed or their index)."""
    rules = call.raw("rules.values", []) or []
    names = [
        str(rule.get("outputKey")) if rule.get("renameOutput") else str(i)
        for i, rule in enumerate(rules)
    ]
    options = call.raw("options", {}) or {}
    if options.get("fallbackOutput") == "extra":
        names.append(str(options.get("renameFallbackOutput") or "Fallback"))
    return names


def run(call: NodeCall) -> list[list[Item]]:
    mode = call.parameter("mode", 0, "rules")
    if mode == "expression":
        return _run_expression(call)
    if call.type_version >= 3:
        return _run_v3_rules(call)
    return _run_legacy_rules(call)
