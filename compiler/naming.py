"""Names of the workflow variables that carry each node's outputs in the ASL.

Emission, the native lowerings, the native check (a native expression must not read a
node's variable) and the manifest all need the same names; they are computed once per
graph, here, below every pass that reads them.
"""

from __future__ import annotations

import re

from compiler.graph import Graph, per_graph

# Names a node variable must not shadow: JSONata's built-in functions (and the functions
# Step Functions adds), plus the local variables the emitted expressions bind; and JSONata's
# keywords, which are no field names in a path (``$states.result[0].true`` reads the
# boolean, not the branch output of a node named "true").
_RESERVED_TEXT = """
    states i e c m items json sum count max min average string substring substringBefore
    substringAfter lowercase uppercase length trim pad formatNumber formatBase
    formatInteger parseInteger number floor ceil round abs sqrt power random boolean not
    map zip filter single reduce sift keys lookup append exists spread merge reverse
    each error assert type sort shuffle distinct base64encode base64decode
    encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl eval toMillis fromMillis
    clone now millis split join match contains replace partition range hash randomSeeded
    uuid parse vars x a won
    true false null and or in function
"""
RESERVED_NAMES = frozenset(_RESERVED_TEXT.split())


# Step Functions allows variable names of up to 80 characters; a node's name leaves room for
# the suffixes of the variables derived from it (``_b12`` in a branch, ``_run``, ``_batch``,
# ``_quorum_3``, uniqueness counters).
VARIABLE_BASE_MAX = 56


@per_graph
def variable_names(graph: Graph) -> list[str]:
    """One readable, unique JSONata variable name per node (``Big?`` -> ``Big_``); computed
    once per graph (emit, native lowering and the manifest all ask)."""
    return _variable_names(graph)


def _variable_names(graph: Graph) -> list[str]:
    names: list[str] = []
    taken: set[str] = set(RESERVED_NAMES)
    for node in graph.nodes:
        base = re.sub(r"[^A-Za-z0-9_]", "_", node.name)[:VARIABLE_BASE_MAX]
        if not base or base[0].isdigit():
            base = "n_" + base
        name, suffix = base, 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        names.append(name)
    return names


# The workflow variables (setVariable) travel in one machine variable, ``$vars``.
VARS = "vars"
SET_VARIABLE = "setVariable"


def uses_variables(graph: Graph) -> bool:
    return SET_VARIABLE in graph.node_types
