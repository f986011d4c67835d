"""The workflow graph as pictures: Mermaid flowchart text, and a self-contained HTML page
that draws the DAG itself as inline SVG (no scripts, no external resources).

The SVG uses a layered layout: one column per topological level (left to right), nodes in a
column ordered by a few barycenter sweeps to cut edge crossings, edges as cubic curves
labelled with the output name (IF, Switch, error ports) and the input index (Merge). Loop
back edges (a loop body returning items to its loop node) are dashed.

An edge that skips columns gets a free row of its own in every column it crosses (a
"dummy node" of the Sugiyama layout, ordered by the same sweeps) and is drawn through
those rows, so it never passes through a node's box: between two adjacent columns a curve
stays in the gap, and within a column it runs straight along its own row.

Every node's box carries ``data-node`` (its name) and every forward edge its ends
(``data-from``/``data-output``, ``data-to``/``data-input``), so a page can colour the boxes
by the status of an execution and find a node's input items (the execution viewer does).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from compiler.explain import topological_levels
from compiler.graph import Edge, Graph

# Fill colour per node type (anything else: OTHER_COLOUR); trigger, routing, joins, code...
TYPE_COLOURS: dict[str, str] = {
    "manualTrigger": "#c8e6c9",
    "if": "#ffe0b2",
    "switch": "#ffe0b2",
    "filter": "#fff3c4",
    "merge": "#d1c4e9",
    "code": "#bbdefb",
    "httpRequest": "#b2ebf2",
    "wait": "#f8bbd0",
    "stopAndError": "#ffcdd2",
    "noOp": "#eeeeee",
}
OTHER_COLOUR = "#e0f2f1"  # set, aggregate, splitOut, sort, limit, removeDuplicates

NODE_WIDTH, NODE_HEIGHT = 168, 44
GAP_X, GAP_Y, MARGIN = 84, 18, 24
BACK_LANE = 12  # vertical spacing of loop back edges, drawn below the nodes
LABEL_CHARS = 24
SWEEPS = 4


def colour(node_type: str) -> str:
    return TYPE_COLOURS.get(node_type, OTHER_COLOUR)


def back_edges(graph: Graph) -> list[Edge]:
    """Loop back edges (kept out of ``Graph.edges``, which is acyclic)."""
    return [edge for loop in graph.loops.values() for edge in loop.back_edges]


def edge_label(graph: Graph, edge: Edge) -> str | None:
    """Output name when the source has several outputs, input index when the target has
    several inputs; None for a plain main -> main edge."""
    parts = []
    if len(graph.outputs[edge.source]) > 1:
        parts.append(graph.outputs[edge.source][edge.output])
    if graph.inputs[edge.target] > 1:
        parts.append(f"in {edge.input}")
    return " → ".join(parts) or None


# ---------------------------------------------------------------------------- Mermaid

_MERMAID_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:!?()/'+*=@→"
)


def _mermaid_text(text: str) -> str:
    """Mermaid entity codes (``#35;``) for every character that could end a label."""
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def _class_name(node_type: str) -> str:
    return "t_" + "".join(ch if ch.isalnum() else "_" for ch in node_type)


def mermaid(graph: Graph, direction: str = "LR") -> str:
    """A Mermaid ``flowchart``: nodes ``n<i>`` labelled name + type, coloured by type."""
    lines = [f"flowchart {direction}"]
    for i, node in enumerate(graph.nodes):
        label = f"{_mermaid_text(node.name)}<br/><small>{_mermaid_text(node.type)}</small>"
        lines.append(f'    n{i}["{label}"]')
    backs = back_edges(graph)
    for edge in [*graph.edges, *backs]:
        text = edge_label(graph, edge)
        arrow = "-.->" if edge in backs else "-->"
        if text:
            arrow = f'-.->|"{_mermaid_text(text)}"|' if edge in backs else \
                f'-->|"{_mermaid_text(text)}"|'
        lines.append(f"    n{edge.source} {arrow} n{edge.target}")
    types = sorted({node.type for node in graph.nodes})
    for node_type in types:
        lines.append(f"    classDef {_class_name(node_type)} fill:{colour(node_type)},"
                     "stroke:#555,color:#111")
    for node_type in types:
        members = ",".join(f"n{i}" for i, n in enumerate(graph.nodes) if n.type == node_type)
        lines.append(f"    class {members} {_class_name(node_type)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    x: list[float]  # left edge of every node's box
    y: list[float]  # top edge
    width: float
    height: float
    # (source, target) of an edge that skips columns -> the top edge of its own row in
    # each column it crosses, left to right
    via: dict[tuple[int, int], list[float]] = field(default_factory=dict)


Chains = dict[tuple[int, int], list[int]]


def _with_long_edge_rows(graph: Graph, levels: list[list[int]]) -> tuple[
        list[list[int]], list[list[int]], list[list[int]], Chains]:
    """Levels with a placeholder (an id past the graph's nodes) in every column an edge
    skips, the predecessors and successors of every id, and each long pair's placeholders."""
    column = {node: k for k, level in enumerate(levels) for node in level}
    preds = [list(p) for p in graph.preds]
    succs = [list(s) for s in graph.succs]
    chains: Chains = {}
    for edge in graph.edges:
        pair = (edge.source, edge.target)
        if pair in chains or column[edge.target] - column[edge.source] < 2:
            continue
        chain = list(range(len(preds), len(preds) + column[edge.target]
                           - column[edge.source] - 1))
        preds += [[] for _ in chain]
        succs += [[] for _ in chain]
        hops = [edge.source, *chain, edge.target]
        succs[edge.source] = [n for n in succs[edge.source] if n != edge.target]
        preds[edge.target] = [n for n in preds[edge.target] if n != edge.source]
        for before, after in zip(hops, hops[1:], strict=False):
            succs[before].append(after)
            preds[after].append(before)
        for k, placeholder in enumerate(chain):
            levels[column[edge.source] + 1 + k].append(placeholder)
        chains[pair] = chain
    return levels, preds, succs, chains


def layered_layout(graph: Graph) -> Layout:
    """Columns by topological level, rows by barycenter ordering (alternating sweeps); an
    edge that skips columns holds a row in each (module docstring)."""
    levels, preds, succs, chains = _with_long_edge_rows(
        graph, topological_levels(graph, after_loops=False))
    row = [0.0] * len(preds)
    for level in levels:
        for k, node in enumerate(level):
            row[node] = float(k)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        neighbours = preds if forward else succs
        for level in levels[1:] if forward else levels[-2::-1]:
            keys = {node: (_barycenter(neighbours[node], row, row[node]), row[node])
                    for node in level}
            level.sort(key=keys.__getitem__)
            for k, node in enumerate(level):
                row[node] = float(k)
    tallest = max((len(level) for level in levels), default=0)
    step_y = NODE_HEIGHT + GAP_Y
    x = [0.0] * len(preds)
    y = [0.0] * len(preds)
    for column, level in enumerate(levels):
        offset = (tallest - len(level)) * step_y / 2
        for k, node in enumerate(level):
            x[node] = MARGIN + column * (NODE_WIDTH + GAP_X)
            y[node] = MARGIN + offset + k * step_y
    width = 2 * MARGIN + max(len(levels) * (NODE_WIDTH + GAP_X) - GAP_X, 0)
    lanes = sum(len(loop.back_edges) for loop in graph.loops.values())
    height = 2 * MARGIN + max(tallest * step_y - GAP_Y, 0) + BACK_LANE * (lanes + 1) * (lanes > 0)
    size = len(graph)
    return Layout(x[:size], y[:size], width, height,
                  {pair: [y[n] for n in chain] for pair, chain in chains.items()})


def _barycenter(around: list[int], row: list[float], default: float) -> float:
    return sum(row[n] for n in around) / len(around) if around else default


# ---------------------------------------------------------------------------- SVG / HTML


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _edge_svg(graph: Graph, layout: Layout, edge: Edge, sibling: int, siblings: int) -> str:
    """A curve across each gap between columns; through the columns an edge skips, a
    straight run along the row it holds there (``Layout.via``)."""
    spread = (sibling - (siblings - 1) / 2) * 6  # parallel edges of one pair fan out
    x1 = layout.x[edge.source] + NODE_WIDTH
    y1 = layout.y[edge.source] + NODE_HEIGHT / 2 + spread
    x2 = layout.x[edge.target]
    y2 = layout.y[edge.target] + NODE_HEIGHT / 2 + spread
    rows = layout.via.get((edge.source, edge.target), [])
    points = [(x1, y1)]
    for k, top in enumerate(rows):
        left = layout.x[edge.source] + (k + 1) * (NODE_WIDTH + GAP_X)
        points += [(left, top + NODE_HEIGHT / 2 + spread),
                   (left + NODE_WIDTH, top + NODE_HEIGHT / 2 + spread)]
    points.append((x2, y2))
    d = f"M{x1:.1f},{y1:.1f}"
    for k in range(0, len(points) - 1, 2):
        (ax, ay), (bx, by) = points[k], points[k + 1]
        bend = max(30.0, (bx - ax) / 2)
        d += f" C{ax + bend:.1f},{ay:.1f} {bx - bend:.1f},{by:.1f} {bx:.1f},{by:.1f}"
        if k + 2 < len(points):
            d += f" L{points[k + 2][0]:.1f},{points[k + 2][1]:.1f}"
    ends = (f'data-from="{html.escape(graph.nodes[edge.source].name)}" data-output="{edge.output}" '
            f'data-to="{html.escape(graph.nodes[edge.target].name)}" data-input="{edge.input}"')
    path = f'<path class="edge" d="{d}" {ends} marker-end="url(#arrow)"/>'
    label = edge_label(graph, edge)
    if not label:
        return path
    (lx1, ly1), (lx2, ly2) = points[0], points[1]
    return (path + f'<text class="edge-label" x="{(lx1 + lx2) / 2:.1f}" '
            f'y="{(ly1 + ly2) / 2 - 3:.1f}" text-anchor="middle">{html.escape(label)}</text>')


def _back_edge_svg(graph: Graph, layout: Layout, edge: Edge, lane: int) -> str:
    """From the bottom of a body node back to the bottom of its loop node, dashed, through
    a lane of its own below every node."""
    x1 = layout.x[edge.source] + NODE_WIDTH / 2
    y1 = layout.y[edge.source] + NODE_HEIGHT
    x2 = layout.x[edge.target] + NODE_WIDTH / 2 + 12
    y2 = layout.y[edge.target] + NODE_HEIGHT
    low = max(layout.y, default=0.0) + NODE_HEIGHT + BACK_LANE * (lane + 1.5)
    path = (f'<path class="edge back" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{low:.1f} '
            f'{x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>')
    label = edge_label(graph, edge)
    if not label:
        return path
    return (path + f'<text class="edge-label" x="{(x1 + x2) / 2:.1f}" y="{low - 4:.1f}" '
            f'text-anchor="middle">{html.escape(label)}</text>')


def _node_svg(graph: Graph, layout: Layout, node: int) -> str:
    spec = graph.nodes[node]
    x, y = layout.x[node], layout.y[node]
    cx = x + NODE_WIDTH / 2
    return (
        f'<g class="node"><title>{html.escape(spec.name)} ({html.escape(spec.type)})</title>'
        f'<rect data-node="{html.escape(spec.name)}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="7" '
        f'fill="{colour(spec.type)}"/>'
        f'<text x="{cx:.1f}" y="{y + 19:.1f}" text-anchor="middle">'
        f"{html.escape(_short(spec.name))}</text>"
        f'<text class="type" x="{cx:.1f}" y="{y + 35:.1f}" text-anchor="middle">'
        f"{html.escape(spec.type)}</text></g>"
    )


def svg(graph: Graph) -> str:
    """The DAG as one ``<svg>`` element (layered layout, see module docstring)."""
    layout = layered_layout(graph)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
        'role="img">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#666"/></marker></defs>',
    ]
    pairs: dict[tuple[int, int], list[Edge]] = {}
    for edge in graph.edges:
        pairs.setdefault((edge.source, edge.target), []).append(edge)
    for edges in pairs.values():
        for k, edge in enumerate(edges):
            parts.append(_edge_svg(graph, layout, edge, k, len(edges)))
    parts.extend(_back_edge_svg(graph, layout, edge, lane)
                 for lane, edge in enumerate(back_edges(graph)))
    parts.extend(_node_svg(graph, layout, node) for node in range(len(graph)))
    parts.append("</svg>")
    return "\n".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.canvas { overflow: auto; border: 1px solid #ddd; border-radius: 6px; background: #fff; }
svg text { font-size: 12px; fill: #111; }
svg text.type { font-size: 10px; fill: #555; }
svg text.edge-label { font-size: 10px; fill: #333; paint-order: stroke;
  stroke: #fff; stroke-width: 3px; }
svg rect { stroke: #555; stroke-width: 1; }
svg path.edge { fill: none; stroke: #888; stroke-width: 1.3; }
svg path.back { stroke: #a05; stroke-dasharray: 5 4; }
.legend span { display: inline-block; margin: 0 .8rem .4rem 0; padding: .1rem .5rem;
  border: 1px solid #555; border-radius: 4px; font-size: 12px; }
pre { background: #f6f6f6; padding: 1rem; overflow: auto; font-size: 12px; }
"""


def html_page(graph: Graph) -> str:
    """A self-contained page: title, legend, the inline SVG, and the Mermaid text."""
    name = html.escape(graph.workflow.name)
    levels = len(topological_levels(graph))
    legend = "".join(
        f'<span style="background:{colour(t)}">{html.escape(t)}</span>'
        for t in sorted({node.type for node in graph.nodes})
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{name} — sfnflow graph</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{name}</h1>\n"
        f"<p>{len(graph)} nodes, {len(graph.edges) + len(back_edges(graph))} connections, "
        f"{levels} levels.</p>\n"
        f'<div class="legend">{legend}</div>\n'
        f'<div class="canvas">\n{svg(graph)}\n</div>\n'
        f"<h2>Mermaid</h2>\n<pre>{html.escape(mermaid(graph))}</pre>\n"
        "</body>\n</html>\n"
    )
