"""Read a workflow document (JSON or YAML 1.2) from bytes, text or a file: bounded and total.

Every way a file can fail to be a document is a ``WorkflowInvalid`` whose problems name the
file (with line and column, or byte offset) and, inside ``nodes``, the node and the field:
not UTF-8, too large, nested too deep, a number Python cannot read, NaN, YAML that is not
JSON (dates, ``!!binary``, ``!!set``, keys that are not strings, custom tags), a recursive
anchor, or aliases that would expand past ``compiler.document.MAX_VALUES`` (an alias bomb is
refused from its composed node graph, before anything is built). Nothing else escapes, and
no input makes it run long: the size limit bounds the parsers, the depth limit their
recursion, the expansion count the objects built.

JSON is tried first (fast, and exact about numbers). YAML is read by ruamel.yaml's pure
YAML 1.2 safe loader: ``{name: Even?}`` and ``on: push`` are plain strings, as in JSON
Schema's eyes they should be (PyYAML's YAML 1.1 refuses the first and reads ``True`` for
``on``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import ComposerError, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scanner import Scanner

from compiler.document import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_INTEGER_DIGITS,
    MAX_VALUES,
    field_path,
    located,
    value_problems,
)
from compiler.errors import Problem, WorkflowInvalid

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null"))
_MERGE = _YAML + "merge"
_NOT_JSON_TAGS = {
    _YAML + "timestamp": "a date or timestamp (quote it to keep it a string)",
    _YAML + "binary": "binary data (!!binary)",
    _YAML + "set": "a set (!!set)",
    _YAML + "omap": "an ordered map (!!omap)",
    _YAML + "pairs": "a list of pairs (!!pairs)",
}
_LONG_DIGITS = re.compile(f"[0-9]{{{MAX_INTEGER_DIGITS + 1},}}")


def _invalid(source: str, message: str, code: str, node: str | None = None,
             field: str = "") -> WorkflowInvalid:
    return WorkflowInvalid([Problem(node, field, f"{source}: {message}", code)])


def load_text(text: str, source: str = "<text>") -> Any:
    """Parse a JSON or YAML document; raises ``WorkflowInvalid`` for anything else."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise _invalid(source, f"{size:,} bytes, over the {MAX_DOCUMENT_BYTES:,}-byte limit "
                       "of a workflow document", "too_large")
    document = _load_json(text, source)
    if document is _NOT_JSON:
        document = _load_yaml(text, source)
    problems = value_problems(document, source)
    if problems:
        raise WorkflowInvalid(problems)
    return document


def load_bytes(data: bytes, source: str = "<bytes>") -> Any:
    """Decode UTF-8 (a byte that is not names its offset), then ``load_text``."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _invalid(source, f"over the {MAX_DOCUMENT_BYTES:,}-byte limit of a workflow "
                       "document", "too_large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(source, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset "
                       f"{exc.start:,} ({exc.reason})", "encoding") from None
    return load_text(text, source)


def load_file(path: str | Path) -> Any:
    """Read at most one byte more than the limit (a huge file is not read whole)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise _invalid(str(path), exc.strerror or type(exc).__name__, "io") from None
    return load_bytes(data, str(path))


# ------------------------------------------------------------------------------------ JSON

_NOT_JSON = object()


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _load_json(text: str, source: str) -> Any:
    """The JSON document, or ``_NOT_JSON`` when the text is no JSON (then it may be YAML)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except _NotFinite as exc:
        raise _invalid(source, f"{exc} is not a JSON number", "not_json") from None
    except RecursionError:
        raise _invalid(source, f"nested more than {MAX_DEPTH} deep", "too_deep") from None
    except json.JSONDecodeError:
        return _NOT_JSON
    except ValueError:  # an integer longer than Python reads (int_max_str_digits)
        found = _LONG_DIGITS.search(text)
        where = f" at offset {found.start():,}" if found else ""
        raise _invalid(source, f"an integer of more than {MAX_INTEGER_DIGITS:,} digits{where}",
                       "too_large") from None


# ------------------------------------------------------------------------------------ YAML


class _BoundedScanner(Scanner):
    """Refuses flow collections (``[``, ``{``) nested past the depth limit as it meets them.
    The composer's own ``max_depth`` comes too late for them: the scanner reads ahead while
    a ``[`` might still turn out to be a key, checking every open level at every token, so
    7,000 ``[`` took seconds before the composer saw the first one."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803
        if self.flow_level > MAX_DEPTH:
            raise MaxDepthExceededError(None, None, "nested too deep", self.reader.get_mark())
        super().fetch_flow_collection_start(TokenClass, to_push)


def _load_yaml(text: str, source: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = _BoundedScanner
    yaml.max_depth = MAX_DEPTH + 1  # the composer counts the root as depth 1
    parser = None
    try:
        constructor, parser = yaml.get_constructor_parser(text)  # (checks the characters)
        yaml.composer.warn_double_anchors = False
        root = yaml.composer.get_single_node()
        if root is None:
            return None
        problems = _graph_problems(root, source)
        if problems:
            raise WorkflowInvalid(problems)
        return constructor.construct_document(root)
    except WorkflowInvalid:
        raise
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise WorkflowInvalid([_yaml_problem(exc, source)]) from None
    finally:
        if parser is not None:
            parser.dispose()


def _yaml_problem(exc: BaseException, source: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) if isinstance(exc, MarkedYAMLError) else None
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if isinstance(exc, MaxDepthExceededError):
        return Problem(None, "", f"{source}: nested more than {MAX_DEPTH} deep{where}",
                       "too_deep")
    problem = getattr(exc, "problem", None) if isinstance(exc, MarkedYAMLError) else None
    if isinstance(exc, ComposerError) and "another document" in str(exc):
        problem = "more than one YAML document (one workflow per file)"
    text = problem or (str(exc).splitlines() or [type(exc).__name__])[0]
    return Problem(None, "", f"{source}: not valid JSON or YAML{where}: {text}", "syntax")


Path_ = tuple[str | int, ...]


def _children(node: Node) -> list[tuple[Node, Path_]]:
    if isinstance(node, SequenceNode):
        return [(item, (index,)) for index, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        pairs: list[tuple[Node, Path_]] = []
        for key, value in node.value:
            label = str(key.value) if isinstance(key, ScalarNode) else "?"
            pairs += [(key, ()), (value, (label,))]
        return pairs
    return []


def _tag(node: Node) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag))


def _own_problem(node: Node, is_key: bool) -> str | None:
    """What is not JSON about this one node (its children are checked on their own)."""
    tag = _tag(node)
    if tag in _NOT_JSON_TAGS:
        return f"{_NOT_JSON_TAGS[tag]} is not a JSON value"
    if is_key:
        if not isinstance(node, ScalarNode) or tag not in (_YAML + "str", _MERGE):
            shown = node.value if isinstance(node, ScalarNode) else "a collection"
            return f"key {shown!r} is not a string: JSON keys are strings (quote it)"
        return None
    if isinstance(node, ScalarNode):
        if tag not in _SCALAR_TAGS:
            return f"the tag {tag} is not supported: a workflow document holds JSON values"
        if tag == _YAML + "int" and len(node.value) > MAX_INTEGER_DIGITS:
            return f"an integer of more than {MAX_INTEGER_DIGITS:,} digits"
    elif tag not in (_YAML + "seq", _YAML + "map"):
        return f"the tag {tag} is not supported: a workflow document holds JSON values"
    return None


def _graph_problems(root: Node, source: str) -> list[Problem]:
    """Walk the composed node graph once (an alias is an edge to a node composed earlier):
    non-JSON nodes, a recursive anchor, and the size and depth the document would have with
    every alias expanded, memoised per node so a bomb is measured, not built."""
    names = _yaml_node_names(root)
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, depth)
    visiting: set[int] = set()
    problems: list[Problem] = []

    def problem(node: Node, path: Path_, message: str, code: str) -> Problem:
        mark = node.start_mark
        where, field = located(path, names)
        return Problem(where, field, f"{source}: line {mark.line + 1}, column "
                       f"{mark.column + 1}: {message}", code)

    stack: list[tuple[Node, Path_, bool, bool]] = [(root, (), False, False)]
    while stack:
        node, path, is_key, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            visiting.discard(key)
            size = 1 + sum(measured[id(child)][0] for child, _ in children)
            depth = 1 + max((measured[id(child)][1] for child, _ in children), default=0)
            measured[key] = (size, depth)
            if size > MAX_VALUES:
                return [problem(node, path, f"expands to more than {MAX_VALUES:,} values "
                                "(aliases expanded): an alias bomb, or too large a document",
                                "too_large")]
            if depth > MAX_DEPTH + 1:
                return [problem(node, path, f"nested more than {MAX_DEPTH} deep (aliases "
                                "expanded)", "too_deep")]
            continue
        if key in measured:
            continue
        if key in visiting:
            return [problem(node, path, f"a recursive alias (it contains itself, at "
                            f"{field_path(path) or 'the top'}): JSON cannot hold it",
                            "recursive")]
        visiting.add(key)
        message = _own_problem(node, is_key)
        if message is not None:
            problems.append(problem(node, path, message, "not_json"))
        stack.append((node, path, is_key, True))
        for child, step in reversed(children):
            stack.append((child, (*path, *step), isinstance(node, MappingNode) and not step,
                          False))
    return problems


def _yaml_node_names(root: Node) -> list[Any]:
    """``name`` of every entry of the top-level ``nodes`` sequence, from the node graph."""
    if not isinstance(root, MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "nodes" and \
                isinstance(value, SequenceNode):
            names: list[Any] = []
            for item in value.value:
                name = None
                if isinstance(item, MappingNode):
                    name = next((v.value for k, v in item.value if isinstance(k, ScalarNode)
                                 and k.value == "name" and isinstance(v, ScalarNode)), None)
                names.append(name)
            return names
    return []
