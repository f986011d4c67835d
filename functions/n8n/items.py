"""n8n's item model: ``{"json": {...}, "pairedItem": ...}``, and lodash-style field paths.

``pairedItem`` is the lineage n8n keeps per output item: ``{"item": i}`` (input 0) or
``{"item": i, "input": n}``, or a list of those when one output item comes from several
inputs (Aggregate, Summarize, Merge). ``$('Node').item`` later walks it, so every node
function here sets it exactly as n8n does.

Field paths follow lodash's ``get``/``set``/``unset`` (``a.b[0].c``, ``a["b"]``), which is
what n8n's "dot notation" means; ``set`` creates arrays for numeric keys, as lodash does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

Item = dict[str, Any]
Json = dict[str, Any]

_PATH_TOKEN = re.compile(
    r"""[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]"""
    r"""|(?=(?:\.|\[\])(?:\.|\[\]|$))"""
)
_INDEX = re.compile(r"^(?:0|[1-9]\d*)$")
#: Keys n8n refuses in paths (prototype pollution guards, e.g. SplitOut's destination).
FORBIDDEN_KEYS = frozenset({"__proto__", "constructor", "prototype"})


def paired(index: int, input_index: int = 0) -> dict[str, int]:
    """n8n's pairedItem for one source item (``input`` is omitted for input 0)."""
    return {"item": index} if input_index == 0 else {"item": index, "input": input_index}


def new_item(json: Json, pairing: Any) -> Item:
    return {"json": json, "pairedItem": pairing}


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(value)


def to_path(path: str | list[str]) -> list[str]:
    """lodash ``toPath``: ``'a.b[0]["c.d"]'`` -> ``['a', 'b', '0', 'c.d']``."""
    if isinstance(path, list):
        return [str(p) for p in path]
    if path == "":
        return [""]
    parts: list[str] = []
    if path.startswith("."):
        parts.append("")
    for match in _PATH_TOKEN.finditer(path):
        number, quote, quoted = match.group(1), match.group(2), match.group(3)
        if number is not None:
            parts.append(number)
        elif quote:
            parts.append(re.sub(r"\\(.)", r"\1", quoted))
        elif match.group(0):
            parts.append(match.group(0))
        else:
            parts.append("")
    return parts


def _child(container: Any, key: str) -> tuple[bool, Any]:
    if isinstance(container, dict):
        return (key in container, container.get(key))
    if isinstance(container, list) and _INDEX.match(key):
        i = int(key)
        return (i < len(container), container[i] if i < len(container) else None)
    if isinstance(container, str) and _INDEX.match(key) and int(key) < len(container):
        return (True, container[int(key)])
    if isinstance(container, (list, str)) and key == "length":
        return (True, len(container))
    return (False, None)


def has_path(obj: Any, path: str | list[str]) -> bool:
    current = obj
    for key in to_path(path):
        found, current = _child(current, key)
        if not found:
            return False
    return True


def get_path(obj: Any, path: str | list[str], default: Any = None) -> Any:
    """lodash ``get``: the value at ``path``, or ``default`` when any step is missing."""
    current = obj
    for key in to_path(path):
        found, current = _child(current, key)
        if not found:
            return default
    return current


def set_path(obj: Json, path: str | list[str], value: Any) -> Json:
    """lodash ``set``: creates objects, or arrays where the next key is an index."""
    keys = to_path(path)
    if any(k in FORBIDDEN_KEYS for k in keys):
        return obj
    current: Any = obj
    for position, key in enumerate(keys):
        last = position == len(keys) - 1
        if isinstance(current, list) and _INDEX.match(key):
            index = int(key)
            while len(current) <= index:
                current.append(None)
            if last:
                current[index] = value
                return obj
            nxt = current[index]
            if not isinstance(nxt, (dict, list)):
                nxt = [] if _INDEX.match(keys[position + 1]) else {}
                current[index] = nxt
            current = nxt
            continue
        if not isinstance(current, dict):
            return obj
        if last:
            current[key] = value
            return obj
        nxt = current.get(key)
        if not isinstance(nxt, (dict, list)):
            nxt = [] if _INDEX.match(keys[position + 1]) else {}
            current[key] = nxt
        current = nxt
    return obj


def unset_path(obj: Any, path: str | list[str]) -> bool:
    """lodash ``unset``: remove the key at ``path`` if it exists."""
    keys = to_path(path)
    parent = get_path(obj, keys[:-1]) if len(keys) > 1 else obj
    key = keys[-1]
    if isinstance(parent, dict) and key in parent:
        del parent[key]
        return True
    return False


Getter = Callable[..., Any]
Setter = Callable[[Json, str, Any], Json]


def field_getter(dot_notation: bool) -> tuple[Getter, Setter]:
    """The get/set pair n8n nodes pick with their "dot notation" option:
    ``get(obj, key, default=None)`` and ``set(obj, key, value)``."""
    if dot_notation:
        return get_path, set_path

    def get_flat(obj: Any, key: str, default: Any = None) -> Any:
        return obj.get(key, default) if isinstance(obj, dict) else default

    def set_flat(obj: Json, key: str, value: Any) -> Json:
        if key not in FORBIDDEN_KEYS:
            obj[key] = value
        return obj

    return get_flat, set_flat


def split_field_list(value: Any) -> list[str]:
    """n8n's comma-separated field lists (``"a, b"``) or an array of names."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip() != ""]
    return [part.strip() for part in str(value).split(",") if part.strip() != ""]
