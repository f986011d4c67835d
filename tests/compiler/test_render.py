"""compiler.render: Mermaid text and the self-contained HTML page."""

from __future__ import annotations

import re

from compiler import compile_workflow
from compiler.render import html_page, layered_layout, mermaid
from tests.compiler.test_explain import IF, workflow

MERGE = {"type": "merge", "parameters": {"mode": "append"}}
EDGES = [("T", "Big?"), ("Big?", "a", "true"), ("Big?", "b", "false"), ("a", "M", 0, 0),
         ("b", "M", 0, 1)]


def test_mermaid_labels_nodes_ports_and_inputs() -> None:
    graph = compile_workflow(workflow(EDGES, {"Big?": IF, "M": MERGE})).graph
    text = mermaid(graph)
    assert text.startswith("flowchart LR\n")
    assert 'n1["Big?<br/><small>if</small>"]' in text
    assert 'n1 -->|"true"| n2' in text and 'n1 -->|"false"| n3' in text
    assert 'n2 -->|"in 0"| n4' in text and 'n3 -->|"in 1"| n4' in text
    assert "n0 --> n1" in text
    assert "classDef t_if fill:" in text and "class n1 t_if" in text


def test_mermaid_escapes_label_breaking_characters() -> None:
    document = workflow([("T", 'Say "hi" [x] #1')])
    text = mermaid(compile_workflow(document).graph)
    assert 'Say #34;hi#34; #91;x#93; #35;1' in text


def test_html_is_self_contained_svg_with_the_mermaid_text() -> None:
    graph = compile_workflow(workflow(EDGES, {"Big?": IF, "M": MERGE})).graph
    page = html_page(graph)
    assert "<svg" in page and page.count('<g class="node">') == 5
    assert page.count('<path class="edge"') == 5
    assert "<script" not in page and "src=" not in page and "<link" not in page
    assert re.findall(r"https?://[^\"\s<]+", page) == ["http://www.w3.org/2000/svg"]
    assert "flowchart LR" in page and "&lt;br/&gt;" in page  # the Mermaid text, escaped
    assert ">true</text>" in page and ">in 1</text>" in page


def test_boxes_and_edges_name_their_nodes_and_ports() -> None:
    """What the execution viewer reads: a box's node, an edge's ends."""
    from compiler.render import svg

    picture = svg(compile_workflow(workflow(EDGES, {"Big?": IF, "M": MERGE})).graph)
    assert picture.count("<rect data-node=") == 5 and '<rect data-node="Big?"' in picture
    assert 'data-from="Big?" data-output="1" data-to="b" data-input="0"' in picture
    assert 'data-from="b" data-output="0" data-to="M" data-input="1"' in picture


def test_layout_puts_each_level_in_a_column() -> None:
    graph = compile_workflow(workflow(EDGES, {"Big?": IF, "M": MERGE})).graph
    layout = layered_layout(graph)
    a, b = graph.index["a"], graph.index["b"]
    assert layout.x[a] == layout.x[b] and layout.y[a] != layout.y[b]
    assert layout.x[graph.index["T"]] < layout.x[graph.index["Big?"]] < layout.x[a]


def test_loop_back_edges_are_dashed() -> None:
    from pathlib import Path

    from compiler import load_file

    path = Path(__file__).resolve().parents[2] / "examples/loop-over-items.yaml"
    graph = compile_workflow(load_file(path)).graph
    text = mermaid(graph)
    assert 'n2 -->|"loop"| n3' in text and 'n2 -->|"done"| n6' in text
    assert "n5 -.-> n2" in text and 'n4 -.->|"false"| n2' in text
    assert html_page(graph).count('class="edge back"') == 2


# ---------------------------------------------------------------- edges never cross nodes


def _bezier(p0: complex, p1: complex, p2: complex, p3: complex, t: float) -> complex:
    u = 1 - t
    return u ** 3 * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t ** 3 * p3


def _path_points(d: str, samples: int = 40) -> list[complex]:
    """Points along an SVG path made of M, C and L commands (what ``render`` writes)."""
    tokens = re.findall(r"[MCL]|-?[\d.]+,-?[\d.]+", d)
    points: list[complex] = []
    here = 0j
    command = ""
    pending: list[complex] = []
    for token in tokens:
        if token in "MCL":
            command = token
            continue
        x, y = token.split(",")
        pending.append(complex(float(x), float(y)))
        if command == "M":
            here = pending.pop()
            points.append(here)
        elif command == "L":
            end = pending.pop()
            points += [here + (end - here) * k / samples for k in range(1, samples + 1)]
            here = end
        elif command == "C" and len(pending) == 3:
            p1, p2, p3 = pending
            points += [_bezier(here, p1, p2, p3, k / samples) for k in range(1, samples + 1)]
            here, pending = p3, []
    return points


def _edges_through_boxes(document: dict[str, object]) -> list[tuple[str, str]]:
    """(edge path, node) pairs where a drawn forward edge enters a node's box."""
    from compiler.render import NODE_HEIGHT, NODE_WIDTH, svg

    graph = compile_workflow(document).graph
    layout = layered_layout(graph)
    picture = svg(graph)
    inset = 2.0
    found = []
    for d in re.findall(r'<path class="edge" d="([^"]+)"', picture):
        for node, spec in enumerate(graph.nodes):
            left, top = layout.x[node] + inset, layout.y[node] + inset
            right, bottom = left + NODE_WIDTH - 2 * inset, top + NODE_HEIGHT - 2 * inset
            if any(left < p.real < right and top < p.imag < bottom for p in _path_points(d)):
                found.append((d, spec.name))
    return found


def test_an_edge_that_skips_columns_goes_around_the_nodes_between() -> None:
    """T -> a -> b -> c and T -> c: drawn straight, T -> c ran through a and b."""
    document = workflow([("T", "a"), ("a", "b"), ("b", "c"), ("T", "c", 0, 1)],
                        {"c": MERGE})
    assert _edges_through_boxes(document) == []
    graph = compile_workflow(document).graph
    rows = layered_layout(graph).via[(graph.index["T"], graph.index["c"])]
    assert len(rows) == 2  # one row of its own in the columns of a and b


def test_no_example_draws_an_edge_through_a_node() -> None:
    from compiler import load_file
    from tests.compiler.test_explain import EXAMPLES

    crossings = {path.name: _edges_through_boxes(load_file(path))
                 for path in sorted(EXAMPLES.glob("*.yaml"))}
    assert {name: found for name, found in crossings.items() if found} == {}
    assert len(crossings) > 10
