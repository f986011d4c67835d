"""What a workflow document may hold: JSON values only, bounded in size, depth and count.

Both front doors check it: the loader (``compiler.loader``) before a YAML or JSON file
becomes a document, and validation (``passes/validate.py``) for documents that arrive as
Python values (the API parses its own request bodies). Whatever passes can be serialised,
hashed, sent to Step Functions and walked recursively by pydantic, JSONata and ``json``
without a ``RecursionError``, an ``OverflowError`` or an unbounded amount of work.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from compiler.errors import Problem

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""A document file is at most 2 MiB. Step Functions takes definitions of at most 1 MiB and a
node's ASL is larger than its source, so no bigger workflow deploys (unless it is mostly
notes or pinData, which belong in files of their own). It also bounds the pure-Python YAML
1.2 parser, which reads a few hundred KB a second, to a few seconds."""

MAX_DEPTH = 100
"""Objects and arrays nest at most 100 deep. Far deeper than any hand-written parameter,
and far below the recursion limit (1,000 frames) that pydantic, ``json`` and the JSONata
parsers (Python's and the JavaScript one asl-validator and Step Functions resemble) hit:
each level of the document costs them several frames, and the compiler wraps values in a
few levels of its own."""

MAX_VALUES = 250_000
"""A document holds at most 250,000 values (scalars, objects and arrays), counted with every
YAML alias expanded. No workflow needs more (a 2 MiB document of ordinary JSON holds fewer);
an alias that expands past it is an alias bomb (a 1.3 KB one expands to billions), which
would exhaust memory when pinData or parameters are serialised."""

MAX_PROBLEMS = 20
"""At most this many value problems are listed: a file of 10,000 dates needs one fix, not
10,000 lines."""

MAX_INTEGER_DIGITS = 4_300
"""Python's default ``sys.get_int_max_str_digits()``: ``json`` can neither read nor write a
longer integer (``ValueError``), and no JSON number of Step Functions needs one."""
MAX_INTEGER_BITS = int(MAX_INTEGER_DIGITS * math.log2(10)) - 1  # below 4,300 digits

_JSON_SCALARS = (str, int, float, bool, type(None))


def located(path: tuple[str | int, ...], node_names: list[Any]) -> tuple[str | None, str]:
    """``(node, field)`` for a path into the document: inside ``nodes[i]`` the node is its
    name (``#i`` while it has none) and the field the rest of the path."""
    if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
        name = node_names[path[1]] if path[1] < len(node_names) else None
        node = name if isinstance(name, str) else f"#{path[1]}"
        return node, field_path(path[2:])
    return None, field_path(path)


def field_path(path: tuple[str | int, ...]) -> str:
    """``("parameters", "rules", 0, "when")`` -> ``parameters.rules[0].when``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def node_names(document: Any) -> list[Any]:
    """The raw ``name`` of every entry of ``nodes`` (``None`` where there is none)."""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if not isinstance(nodes, list):
        return []
    return [node.get("name") if isinstance(node, dict) else None for node in nodes]


def type_name(value: object) -> str:
    """How a user would name a non-JSON value that YAML produced."""
    kind = type(value).__name__
    return {"date": "a date", "datetime": "a timestamp", "bytes": "binary data (!!binary)",
            "set": "a set (!!set)", "frozenset": "a set", "tuple": "a tuple"}.get(kind,
                                                                                  f"a {kind}")


def bad_text(text: str) -> str | None:
    """Why a string cannot travel as JSON text to AWS, or None (lone surrogates, from
    ``"\\ud800"`` escapes, cannot be encoded as UTF-8)."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode text (a lone surrogate U+{ord(text[exc.start]):04X})"
    return None


def value_problems(document: Any, source: str | None = None) -> list[Problem]:
    """Every way ``document`` is not a bounded JSON value, each naming node and field."""
    names = node_names(document)
    prefix = f"{source}: " if source else ""
    problems: list[Problem] = []
    for path, message, code in _walk(document):
        node, field = located(path, names)
        problems.append(Problem(node, field, prefix + message, code))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _walk(document: Any) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Depth-first, without recursion (the depth is what is being checked)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    count = 0
    while stack:
        value, path = stack.pop()
        count += 1
        if count > MAX_VALUES:
            yield (), f"more than {MAX_VALUES:,} values (aliases expanded): too large for a " \
                "workflow document", "too_large"
            return
        if len(path) > MAX_DEPTH:
            yield path[:MAX_DEPTH], f"nested more than {MAX_DEPTH} deep", "too_deep"
            return
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                if not isinstance(key, str):
                    yield path, f"key {key!r} is {type_name(key)}, not a string: JSON keys " \
                        "are strings (quote it)", "not_json"
                    continue
                reason = bad_text(key)
                if reason:
                    yield (*path, key), f"key: {reason}", "not_json"
                    continue
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, str):
            reason = bad_text(value)
            if reason:
                yield path, reason, "not_json"
        elif isinstance(value, float):
            if not math.isfinite(value):
                yield path, f"{value} is not a JSON number", "not_json"
        elif isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
            yield path, f"an integer of more than {MAX_INTEGER_DIGITS:,} digits", "too_large"
        elif not isinstance(value, _JSON_SCALARS):
            hint = " (quote it to keep it a string)" if type(value).__name__ in (
                "date", "datetime") else ""
            yield path, f"{type_name(value)} is not a JSON value{hint}", "not_json"
