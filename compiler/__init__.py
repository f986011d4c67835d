"""sfnflow's compiler: workflow documents to Amazon States Language. Pure: no AWS calls."""

from compiler.errors import CompileError, Problem, SfnflowError, WorkflowInvalid
from compiler.loader import load_file, load_text
from compiler.pipeline import CompiledWorkflow, compile_workflow
from compiler.project import compile_project, load_project

__all__ = [
    "CompileError",
    "CompiledWorkflow",
    "Problem",
    "SfnflowError",
    "WorkflowInvalid",
    "compile_project",
    "compile_workflow",
    "load_file",
    "load_project",
    "load_text",
]
