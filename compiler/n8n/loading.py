"""n8n's exported JSON wherever a workflow document is accepted: detected by shape.

``validate`` (and so ``compile_workflow``, every CLI command and ``POST /workflows``) calls
``as_workflow_document`` first: an n8n document is converted (``document.from_n8n``) and
what the importer could not carry splits in two. What would change how the workflow
behaves (credentials, AI sub-node connections) is a validation problem; what does not
(a retry wait rounded up to whole seconds, pinned binary data, which sfnflow's pins do not
hold) is a note the caller may show. A document in n8n's legacy execution order (no
``settings.executionOrder: "v1"``) is also checked for what that order computes differently
(``compiler.n8n.order``): what sfnflow cannot honour is a validation problem.
"""

from __future__ import annotations

from typing import Any

from compiler.errors import Problem
from compiler.n8n.document import from_n8n, is_n8n
from compiler.n8n.order import legacy_order_problems

#: importer fields whose loss changes nothing the workflow computes
NOTE_FIELDS = ("waitBetweenTries", "pinData[")


def is_note(problem: Problem) -> bool:
    return problem.field.startswith(NOTE_FIELDS)


def as_workflow_document(document: Any) -> tuple[Any, list[Problem], list[Problem]]:
    """``(sfnflow document, problems, notes)``; anything not n8n's comes back unchanged."""
    if not is_n8n(document) or isinstance(document.get("connections"), list):
        return document, [], []
    imported = from_n8n(document)
    problems = [p for p in imported.unsupported if not is_note(p)]
    problems += legacy_order_problems(document)
    notes = [p for p in imported.unsupported if is_note(p)]
    return imported.document, problems, notes
