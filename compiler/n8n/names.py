"""sfnflow workflow names from n8n's free-text ones.

The importer names an imported workflow from n8n's name, and an Execute Workflow node names
the workflow it runs the same way (``compiler.n8n.subworkflow``): one rule, here, below
both.
"""

from __future__ import annotations

import re
from typing import Any

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
WORKFLOW_NAME_MAX = 64


def workflow_name(name: Any, fallback: str = "imported") -> str:
    """A valid sfnflow workflow name from n8n's free-text name ("My flow 2" -> "My-flow-2")."""
    text = _NAME_CHARS.sub("-", str(name or "")).strip("-_")[:WORKFLOW_NAME_MAX].strip("-_")
    if text:
        return text
    return workflow_name(fallback) if fallback != "imported" else fallback
