"""The documents whose compiled ASL must not change when the compiler is refactored.

Every example, every n8n document the tests hold (the corpus and the peer fixtures' cases),
the golden documents, and seeded random DAGs (with runner nodes and each rendezvous
setting, so Flows, cuts and guards all occur). ``record_asl_digests.py`` writes the digest
of each one's ASL to ``asl_digests.json``; ``test_asl_unchanged.py`` compares.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compiler.errors import WorkflowInvalid
from compiler.loader import load_file
from compiler.pipeline import compile_workflow
from tests.compiler.random_dags import (
    random_branching_workflow,
    random_dag,
    series_parallel_dag,
)

ROOT = Path(__file__).resolve().parents[2]
DIGESTS = Path(__file__).with_name("asl_digests.json")


def _workflows_in(value: Any) -> Iterator[Any]:
    """Workflow documents nested anywhere in a fixture (n8n's shape: nodes + connections)."""
    if isinstance(value, dict):
        if isinstance(value.get("nodes"), list) and "connections" in value:
            yield value
            return
        for child in value.values():
            yield from _workflows_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from _workflows_in(child)


def _with_runners(document: dict[str, Any], rng: random.Random, rendezvous: str
                  ) -> dict[str, Any]:
    nodes = [dict(node) for node in document["nodes"]]
    for node in nodes:
        if node["type"] == "noOp" and rng.random() < 0.5:
            node["type"] = "code"
            node["parameters"] = {"code": "return items"}
    return {**document, "nodes": nodes, "settings": {"rendezvous": rendezvous}}


def documents() -> Iterator[tuple[str, Any]]:
    """(name, parsed document) of every document of the corpus, in a fixed order."""
    for path in sorted((ROOT / "examples").iterdir()):
        if path.suffix in (".yaml", ".yml", ".json"):
            yield f"examples/{path.name}", load_file(path)
    for path in sorted((ROOT / "tests/compiler/golden").glob("*.yaml")):
        yield str(path.relative_to(ROOT)), load_file(path)
    for path in sorted((ROOT / "tests/n8n/corpus/workflows").rglob("*.json")):
        yield str(path.relative_to(ROOT)), json.loads(path.read_text())
    fixtures = [*sorted((ROOT / "tests/functions/n8n").glob("peer_*.json")),
                *sorted((ROOT / "tests/compiler/lowering").glob("peer_*.json")),
                *sorted((ROOT / "tests/compiler/n8n").glob("peer_*.json"))]
    for path in fixtures:
        for index, document in enumerate(_workflows_in(json.loads(path.read_text()))):
            yield f"{path.relative_to(ROOT)}#{index}", document
    rng = random.Random(15)
    for index in range(12):
        size = rng.choice((8, 12, 20))
        shape = random_dag(rng, size) if index % 2 else series_parallel_dag(rng, size)
        for rendezvous in ("never", "auto", "always"):
            yield f"random-{index}-{rendezvous}", _with_runners(shape, random.Random(index),
                                                                rendezvous)
        yield f"branching-{index}", random_branching_workflow(rng, size)
    for size in (2, 30, 80):  # a forEach body past the history budget goes distributed
        yield f"loop-{size}", _loop(size, nested=False)
        yield f"nested-loop-{size}", _loop(size, nested=True)


def _loop(size: int, nested: bool) -> dict[str, Any]:
    """A forEach (mode auto) over ``size`` set / code nodes, optionally inside another."""
    body = [{"name": f"b{i}", "type": "code" if i % 3 == 2 else "set",
             "parameters": {"code": "return items"} if i % 3 == 2 else
             {"values": {"x": "{% $json.x + 1 %}"}}} for i in range(size)]
    nodes = [{"name": "Start", "type": "manualTrigger"},
             {"name": "L", "type": "forEach", "parameters": {}}, *body,
             {"name": "After", "type": "noOp"}]
    links = [("Start", "L", None), ("L", "b0", "loop"),
             *((f"b{i}", f"b{i + 1}", None) for i in range(size - 1)),
             (f"b{size - 1}", "L", None), ("L", "After", "done")]
    if nested:
        nodes.insert(1, {"name": "Outer", "type": "splitInBatches",
                         "parameters": {"batchSize": 5}})
        links = [("Start", "Outer", None), ("Outer", "L", "loop"), *links[1:-1],
                 ("L", "Outer", "done"), ("Outer", "After", "done")]
    connections = [{"from": a, "to": b, **({"output": o} if o else {})} for a, b, o in links]
    return {"name": f"loop-{size}", "nodes": nodes, "connections": connections}


def digest(document: Any) -> str:
    """The SHA-256 of the document's compiled ASL, or of its problems when it is invalid."""
    try:
        definition: Any = compile_workflow(document).definition
    except WorkflowInvalid as invalid:
        definition = {"invalid": [str(problem) for problem in invalid.problems]}
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
