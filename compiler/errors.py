"""Errors of the compiler: one root, and one error that carries every validation problem."""

from __future__ import annotations

from dataclasses import dataclass


class SfnflowError(Exception):
    """Root of every error sfnflow raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a workflow: where (node, field) and what (message)."""

    node: str | None
    field: str
    message: str
    code: str = "invalid"
    workflow: str | None = None  # set when several workflows are compiled together

    def __str__(self) -> str:
        where = f"node {self.node!r}" if self.node is not None else "workflow"
        field = f" field {self.field!r}" if self.field else ""
        within = f"workflow {self.workflow!r}: " if self.workflow is not None else ""
        return f"{within}{where}{field}: {self.message}"


class WorkflowInvalid(SfnflowError):
    """Raised with every problem found, never only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems),
                               key=lambda p: (p.workflow or "", p.node or "", p.field, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class CompileError(SfnflowError):
    """The workflow is valid but cannot be lowered (a limit of Step Functions or sfnflow)."""
