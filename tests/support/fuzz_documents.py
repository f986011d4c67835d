"""Seeded fuzzing of workflow documents: mutants of ``examples/*.yaml`` and the golden
workflows, hostile YAML, cut and appended bytes, raw garbage.

``cases(count, seed)`` yields the same cases for the same arguments. ``run_case`` loads,
validates, compiles and checks the limits of one case and says what happened: ``accepted``
(with the compiled workflow), ``rejected`` (a ``WorkflowInvalid``), or ``crashed`` (any other
exception: a bug). Used by ``tests/compiler/test_fuzz_documents.py`` (a few thousand cases)
and ``benchmarks/fuzz_documents.py`` (many more).
"""

from __future__ import annotations

import copy
import json
import random
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import WorkflowInvalid, compile_workflow
from compiler.limits import enforce_limits
from compiler.loader import load_bytes, load_text
from compiler.pipeline import CompiledWorkflow
from tests.support.timing import cpu_clock

ROOT = Path(__file__).resolve().parents[2]
SEED_FILES = sorted([*(ROOT / "examples").glob("*.yaml"),
                     *(ROOT / "tests" / "compiler" / "golden").glob("*.yaml")])

Json = Any


def _deep(depth: int) -> Json:
    value: Json = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_STRINGS: tuple[str, ...] = (
    "", " ", "true", "false", "null", "and", "in", "function", "\u00b2", "\u00b9\u00b2",
    "line\nbreak", "tab\t", "\r", "\x00", "\x7f", "\u2028", "\u202e", "\ufeff", "\ufffe",
    "\U0001f600" * 41, "\U0001f600" * 40, "x" * 200, "x" * 80, "#helper", " padded ",
    "a.b", "[0]", "$", "$states", "{% %}", "{%", "%}", "{% $json.x %}", "{% $json. %}",
    "{% " + "[" * 3000 + "1" + "]" * 3000 + " %}", "{% " + "(" * 120 + "1" + ")" * 120 + " %}",
    "\\", '"', "'", "`", "Even?", "on", "yes", "0", "007", "-1", "1e999", "\ud800",
    "manualTrigger", "set", "main", "error", "done", "loop", "Start",
)
HOSTILE_VALUES: tuple[Json, ...] = (
    None, True, False, 0, -1, 1, 2**31, 2**63, 10**30, -(10**30), 1e308, -1e308, 0.5, 1e-300,
    [], {}, [None], {"": ""}, {"a": {"b": {"c": []}}}, _deep(150), _deep(99), [1] * 2000,
    {f"k{i}": i for i in range(300)}, *HOSTILE_STRINGS,
)
# Raw YAML put where a value was: what JSON cannot say (flow style, self-contained).
HOSTILE_YAML: tuple[str, ...] = (
    "2024-01-31", "2024-01-31T10:00:00Z", "!!binary aGVsbG8=", "!!set {a, b}",
    "!!omap [a: 1]", "!custom x", "9" * 5000, "-" + "9" * 4400, "0x" + "f" * 5000, ".nan",
    ".inf", "-.inf", "&r {k: *r}", "&s [1, *s]", "{1: one}", "{[1]: x}", "{true: x}",
    "{null: x}", "[&a [1, 2], *a, *a]", "{<<: {a: 1}, b: 2}",
    "[" + ", ".join(
        [f"&l0 [{', '.join(['lol'] * 9)}]"]
        + [f"&l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]) + "]",
    "[" * 10_000 + "]" * 10_000, "[" * 150 + "]" * 150, "{a: " * 120 + "1" + "}" * 120,
    "'\\ud800'", '"\\ud800"', '"\\x00"', "|\n  text",
)
FIELD_NAMES: tuple[str, ...] = (
    "name", "type", "parameters", "connections", "nodes", "from", "to", "output", "input",
    "settings", "pinData", "regions", "retry", "onError", "timeoutSeconds", "disabled",
    "notes", "cache", "values", "condition", "code", "url", "seconds", "mode",
    "numberInputs", "workflow", "maxAttempts", "catch", "finally", "errorWorkflow",
    "rendezvous", "description", "rules", "when", "items", "batchSize",
)
_PLACEHOLDER = "__sfnflow_fuzz_raw_{}__"


@dataclass(frozen=True)
class Case:
    label: str  # what was done (for the report of a failure)
    name: str  # a file name (its suffix is the format the case is written in)
    data: bytes


@dataclass
class Outcome:
    case: Case
    verdict: str  # "accepted" | "rejected" | "crashed"
    seconds: float  # CPU time of the thread that ran the case (load-proof)
    compiled: CompiledWorkflow | None = None
    error: str = ""


def seeds() -> list[tuple[str, str, Json]]:
    """``(file name, text, document)`` of every seed workflow."""
    found = []
    for path in SEED_FILES:
        text = path.read_text(encoding="utf-8")
        found.append((path.name, text, load_text(text, path.name)))
    return found


# ------------------------------------------------------------------------------ mutations


def _paths(value: Json, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    stack = [(value, path)]
    while stack:
        current, where = stack.pop()
        items = (current.items() if isinstance(current, dict)
                 else enumerate(current) if isinstance(current, list) else ())
        for key, item in items:
            found.append((*where, key))
            stack.append((item, (*where, key)))
    return found


def _parent(document: Json, path: tuple[Any, ...]) -> Json:
    for step in path[:-1]:
        document = document[step]
    return document


def _hostile(rng: random.Random, raws: list[str]) -> Json:
    """A hostile Python value, or a placeholder for raw YAML (recorded in ``raws``)."""
    if rng.random() < 0.3:
        raws.append(rng.choice(HOSTILE_YAML))
        return _PLACEHOLDER.format(len(raws) - 1)
    return copy.deepcopy(rng.choice(HOSTILE_VALUES))


def _delete(rng: random.Random, document: Json, raws: list[str]) -> str:
    path = rng.choice(_paths(document)[1:] or [("name",)])
    parent = _parent(document, path)
    if isinstance(parent, (dict, list)) and (path[-1] in parent if isinstance(parent, dict)
                                             else path[-1] < len(parent)):
        del parent[path[-1]]
    return f"delete {path}"


def _retype(rng: random.Random, document: Json, raws: list[str]) -> str:
    path = rng.choice(_paths(document)[1:] or [("name",)])
    _parent(document, path)[path[-1]] = _hostile(rng, raws)
    return f"retype {path}"


def _rename_field(rng: random.Random, document: Json, raws: list[str]) -> str:
    dicts = [p for p in _paths(document) if isinstance(_get(document, p), dict)
             and _get(document, p)]
    path = rng.choice(dicts)
    target = _get(document, path)
    old = rng.choice(list(target))
    new = rng.choice(FIELD_NAMES + HOSTILE_STRINGS[:20])
    target[new] = target.pop(old)
    return f"rename {path + (old,)} -> {new!r}"


def _rename_node(rng: random.Random, document: Json, raws: list[str]) -> str:
    nodes = [n for n in document.get("nodes", []) if isinstance(n, dict)] \
        if isinstance(document.get("nodes"), list) else []
    if not nodes:
        return _retype(rng, document, raws)
    node = rng.choice(nodes)
    old, new = node.get("name"), rng.choice(HOSTILE_STRINGS)
    node["name"] = new
    for conn in document.get("connections") or []:
        for end in ("from", "to"):
            if isinstance(conn, dict) and conn.get(end) == old:
                conn[end] = new
    pins = document.get("pinData")
    if isinstance(pins, dict) and old in pins:
        pins[new] = pins.pop(old)
    return f"rename node {old!r} -> {new!r}"


def _connect(rng: random.Random, document: Json, raws: list[str]) -> str:
    names = [n.get("name") for n in document.get("nodes", []) if isinstance(n, dict)] \
        if isinstance(document.get("nodes"), list) else []
    if not names or not isinstance(document.get("connections", []), list):
        return _retype(rng, document, raws)
    conn: dict[str, Json] = {"from": rng.choice(names), "to": rng.choice(names)}
    if rng.random() < 0.7:
        conn["output"] = rng.choice([*HOSTILE_STRINGS, 0, 1, 2, -1, 99, True])
    if rng.random() < 0.3:
        conn["input"] = rng.choice([0, 1, 2, -1, 99, "0", None])
    document.setdefault("connections", []).append(conn)
    return f"connect {conn}"


def _duplicate(rng: random.Random, document: Json, raws: list[str]) -> str:
    lists = [p for p in _paths(document) if isinstance(_get(document, p), list)
             and _get(document, p)]
    if not lists:
        return _retype(rng, document, raws)
    path = rng.choice(lists)
    target = _get(document, path)
    target.append(copy.deepcopy(rng.choice(target)))
    return f"duplicate in {path}"


def _pin_bomb(rng: random.Random, document: Json, raws: list[str]) -> str:
    names = [n.get("name") for n in document.get("nodes", []) if isinstance(n, dict)] \
        if isinstance(document.get("nodes"), list) else ["x"]
    raws.append(HOSTILE_YAML[20])  # the billion laughs
    pins = document.get("pinData") if isinstance(document.get("pinData"), dict) else {}
    pins[str(rng.choice(names or ["x"]))] = [{"laughs": _PLACEHOLDER.format(len(raws) - 1)}]
    document["pinData"] = pins
    return "pinData alias bomb"


def _get(document: Json, path: tuple[Any, ...]) -> Json:
    for step in path:
        document = document[step]
    return document


MUTATIONS: tuple[Callable[[random.Random, Json, list[str]], str], ...] = (
    _delete, _retype, _retype, _rename_field, _rename_node, _rename_node, _connect,
    _duplicate, _pin_bomb,
)


def _mutate(rng: random.Random, document: Json, raws: list[str]) -> str:
    """One mutation; an earlier one may have made the shape it expects something else."""
    mutation = rng.choice(MUTATIONS)
    try:
        return mutation(rng, document, raws)
    except (TypeError, KeyError, IndexError, AttributeError):
        return f"{mutation.__name__} (no longer applies)"


def _serialise(rng: random.Random, document: Json, raws: list[str]) -> tuple[str, str]:
    """JSON text (also YAML), with raw YAML put in for the placeholders (-> the YAML path)."""
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5,
                      indent=rng.choice([None, 2]))
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(_PLACEHOLDER.format(index)), raw)
    return text, ".yaml" if raws else rng.choice([".json", ".yaml"])


# --------------------------------------------------------------------------- byte damage


def _damage(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.randrange(6)
    if kind == 0:
        cut = rng.randrange(len(data) + 1)
        return f"cut at {cut}", data[:cut]
    if kind == 1:
        extra = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        return "append random bytes", data + extra
    if kind == 2:
        at = rng.randrange(len(data) + 1)
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff", b"\x80"])
        return f"insert {bad!r} at {at}", data[:at] + bad + data[at:]
    if kind == 3:
        flipped = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            if flipped:
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return "flip bytes", bytes(flipped)
    if kind == 4:
        at = rng.randrange(len(data) + 1)
        chunk = rng.choice([b"&a ", b"*a", b": ", b"- ", b"{", b"[", b"\t", b"!!set ", b"? ",
                            b"\n  ", b"'", b'"', b"%YAML 1.1\n", b"---\n", b"...\n", b"<<: "])
        return f"insert {chunk!r} at {at}", data[:at] + chunk + data[at:]
    lines = data.split(b"\n")
    rng.shuffle(lines)
    return "shuffle lines", b"\n".join(lines)


def _garbage(rng: random.Random) -> tuple[str, bytes]:
    size = rng.randrange(0, 400)
    if rng.random() < 0.5:
        return "random bytes", bytes(rng.randrange(256) for _ in range(size))
    alphabet = "{}[]:,-&*!|>'\"#%@` \n\tabcxyz019.\u00b2\u00e9"
    return "random text", "".join(rng.choice(alphabet) for _ in range(size)).encode()


# ---------------------------------------------------------------------------------- cases


def cases(count: int, seed: int = 11) -> Iterator[Case]:
    """``count`` cases, the same for the same ``seed``."""
    rng = random.Random(seed)
    sources = seeds()
    for number in range(count):
        name, text, document = rng.choice(sources)
        roll = rng.random()
        if roll < 0.06:
            label, data = _garbage(rng)
            yield Case(f"#{number} {label}", f"case{number}.yaml", data)
            continue
        if roll < 0.3:
            label, data = _damage(rng, text.encode())
            yield Case(f"#{number} {name}: {label}", f"case{number}.yaml", data)
            continue
        mutant = copy.deepcopy(document)
        raws: list[str] = []
        labels = [_mutate(rng, mutant, raws) for _ in range(rng.choice([1, 1, 2, 3]))]
        body, suffix = _serialise(rng, mutant, raws)
        data = body.encode("utf-8", "surrogatepass")
        if rng.random() < 0.1:
            label, data = _damage(rng, data)
            labels.append(label)
        yield Case(f"#{number} {name}: {'; '.join(labels)}", f"case{number}{suffix}", data)


def run_case(case: Case) -> Outcome:
    """Load, validate, compile and check the limits of one case, as ``sfnflow validate``.
    Its time is the CPU time of this thread with the cyclic GC paused: a collection of
    the whole test process's heap is not the case's work."""
    with cpu_clock() as elapsed:
        try:
            compiled = enforce_limits(compile_workflow(load_bytes(case.data, case.name)))
        except WorkflowInvalid:
            return Outcome(case, "rejected", elapsed())
        except Exception:  # the bug being hunted: report it, with its traceback
            return Outcome(case, "crashed", elapsed(), error=traceback.format_exc(limit=-4))
    return Outcome(case, "accepted", elapsed(), compiled)

