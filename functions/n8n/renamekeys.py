"""Rename Keys v1: move values to new keys (dot paths), then optional regex renames.

``keys.key[{currentKey, newKey}]``: a missing key or an empty ``newKey`` is skipped; the
value moves with lodash ``set``/``unset`` (so ``a.b`` leaves an empty ``a``).
``additionalOptions.regexReplacement.replacements[{searchRegex, replaceRegex, options:
{caseInsensitive, depth}}]`` renames every key matching the pattern, down to ``depth``
levels (``-1``: all).
"""

from __future__ import annotations

import re
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, deep_copy, get_path, paired, set_path, unset_path
from functions.n8n.jsvalues import UNDEFINED, js_regex


def _js_replacement(text: str) -> str:
    return re.sub(r"\$(\d+)", r"\\\1", text.replace("\\", "\\\\")).replace("$&", r"\g<0>")


def _rename(data: Any, pattern: re.Pattern[str], replacement: str, depth: int) -> Any:
    if not isinstance(data, dict):
        return data
    renamed: dict[str, Any] = {}
    for key, value in data.items():
        if depth != 0 and isinstance(value, dict):
            value = _rename(value, pattern, replacement, depth - 1)
        renamed[pattern.sub(replacement, key)] = value
    return renamed


def run(call: NodeCall) -> list[list[Item]]:
    out: list[Item] = []
    for index, item in enumerate(call.items):
        data = deep_copy(item["json"])
        for pair in call.parameter("keys.key", index, []) or []:
            current, new = pair.get("currentKey", ""), pair.get("newKey", "")
            if not current or not new:
                continue
            value = get_path(data, current, UNDEFINED)
            if value is UNDEFINED:
                continue
            set_path(data, new, value)
            unset_path(data, current)
        options = call.parameter("additionalOptions", index, {}) or {}
        replacements = ((options.get("regexReplacement") or {}).get("replacements")) or []
        for replacement in replacements:
            opts = replacement.get("options") or {}
            flags = "i" if opts.get("caseInsensitive") else ""
            pattern = js_regex(replacement.get("searchRegex", ""), flags)
            target = _js_replacement(replacement.get("replaceRegex", ""))
            data = _rename(data, pattern, target, int(opts.get("depth", -1)))
        out.append({"json": data, "pairedItem": paired(index)})
    return [out]
