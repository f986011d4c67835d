"""``sfnflow import``: an n8n document converted, and everything of it that does not run as
n8n ran it.

Above the validator (it validates what it imported), while ``compiler.n8n.loading`` sits
below it (the validator converts an n8n document first).
"""

from __future__ import annotations

from typing import Any

from compiler.errors import Problem, WorkflowInvalid
from compiler.n8n.document import from_n8n
from compiler.n8n.order import legacy_order_problems
from compiler.passes.validate import validate


def import_n8n(document: Any, fallback_name: str = "imported") -> tuple[dict[str, Any],
                                                                        list[Problem]]:
    """The sfnflow document and what the importer could not carry and what the validator
    refuses (node types, typeVersions, parameters), each naming node and field."""
    imported = from_n8n(document, fallback_name)
    problems = [*imported.unsupported, *legacy_order_problems(document)]
    try:
        validate(imported.document)
    except WorkflowInvalid as exc:
        problems += exc.problems
    return imported.document, sorted(set(problems), key=lambda p: (p.node or "", p.field))
