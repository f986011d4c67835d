"""Read a workflow document (JSON or YAML) from text or a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import Problem, WorkflowInvalid


def load_text(text: str, source: str = "<text>") -> Any:
    """Parse JSON or YAML (JSON is tried first; YAML is a superset for everything else)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorkflowInvalid(
            [Problem(None, "", f"{source}: not valid JSON or YAML{where}: {problem}", "syntax")]
        ) from None


def load_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowInvalid([Problem(None, "", f"{path}: {exc.strerror}", "io")]) from None
    return load_text(text, str(path))
