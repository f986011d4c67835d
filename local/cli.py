"""``sfnflow``: compile, validate and run workflows locally (typer + rich)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from compiler import CompiledWorkflow, WorkflowInvalid, compile_workflow, load_file
from compiler.schema import workflow_schema

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="sfnflow: n8n-style workflows on AWS Step Functions, locally on moto.")
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2


def _compile(path: Path) -> CompiledWorkflow:
    try:
        return compile_workflow(load_file(path))
    except WorkflowInvalid as exc:
        _print_problems(path, exc)
        raise typer.Exit(EXIT_INVALID) from None


def _print_problems(path: Path, exc: WorkflowInvalid) -> None:
    err.print(f"[bold red]✗ {path}[/]: {len(exc.problems)} problem(s)")
    for problem in exc.problems:
        where = f"node [bold]{problem.node}[/]" if problem.node else "workflow"
        field = f" [cyan]{problem.field}[/]" if problem.field else ""
        err.print(f"  - {where}{field}: {problem.message}", highlight=False, markup=True)


def _read_input(value: str | None) -> Any:
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            err.print(f"[red]--input {value}: {exc.strerror}[/]")
            raise typer.Exit(EXIT_INVALID) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        err.print(f"[red]--input is not valid JSON: {exc}[/]")
        raise typer.Exit(EXIT_INVALID) from None


class _Progress:
    """Live per-node status from the execution history (state names are node names)."""

    def __init__(self, compiled: CompiledWorkflow) -> None:
        self.status = {name: "pending" for name in compiled.manifest["nodes"]}

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if details and details.get("name") in self.status:
            self.status[details["name"]] = "running" if kind.endswith("Entered") else "done"
        elif kind == "LambdaFunctionFailed":
            for name, status in self.status.items():
                if status == "running":
                    self.status[name] = "retrying / failed"

    def table(self) -> Table:
        table = Table(title="progress", show_header=False, box=None)
        colours = {"pending": "dim", "running": "yellow", "done": "green"}
        for name, status in self.status.items():
            table.add_row(name, f"[{colours.get(status, 'red')}]{status}[/]")
        return table


def _render_report(report: dict[str, Any]) -> None:
    table = Table(title=f"execution {report['executionId']}")
    for column in ("node", "status", "items", "attempts", "ms"):
        table.add_column(column, justify="right" if column in ("items", "attempts", "ms") else
                         "left")
    for name, node in report["nodes"].items():
        colour = {"success": "green", "error": "red", "pinned": "cyan"}.get(node["status"], "dim")
        table.add_row(name, f"[{colour}]{node['status']}[/]", str(node["items"] or 0),
                      str(node["attempts"]), str(node["durationMs"]))
    out.print(table)
    colour = "green" if report["status"] == "SUCCEEDED" else "red"
    out.print(f"status: [bold {colour}]{report['status']}[/]")
    if report["error"]:
        out.print(f"error: {report['error']}", highlight=False)
    out.print("output (items of the last nodes):")
    out.print_json(data=report["output"])


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Workflow document (JSON or YAML).")],
    input: Annotated[str | None, typer.Option("--input", "-i",
                                              help="Trigger input: JSON, or @file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    time_scale: Annotated[float, typer.Option(help="Multiply waits and retry intervals.",
                                              min=0.0001)] = 1.0,
    no_pins: Annotated[bool, typer.Option("--no-pins",
                                          help="Ignore the document's pinData.")] = False,
) -> None:
    """Compile FILE, run it on the embedded cloud (moto) and print the result."""
    compiled = _compile(file)
    user_input = _read_input(input)
    from local.cloud import LocalCloud
    from local.report import build_report

    with LocalCloud(time_scale=time_scale) as cloud:
        pins = None if no_pins else compiled.graph.workflow.pinData
        execution_id = cloud.start(compiled, user_input, pin_data=pins)
        progress = _Progress(compiled)
        if as_json or not out.is_terminal:
            finished = cloud.wait(execution_id)
        else:
            with Live(progress.table(), console=out, refresh_per_second=10) as live:
                def on_event(event: dict[str, Any]) -> None:
                    progress.on_event(event)
                    live.update(progress.table())
                finished = cloud.wait(execution_id, on_event=on_event)
        execution = cloud.repository.get_execution(execution_id)
        assert execution is not None
        report = build_report(compiled, execution, cloud.repository.node_runs(execution_id),
                              finished.history, finished.output)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        _render_report(report)
    raise typer.Exit(0 if report["status"] == "SUCCEEDED" else 1)


@app.command("compile")
def compile_command(
    file: Annotated[Path, typer.Argument(help="Workflow document (JSON or YAML).")],
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Write the ASL here.")] = None,
) -> None:
    """Print (or write) the Amazon States Language definition of FILE."""
    compiled = _compile(file)
    text = compiled.definition_json(indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {output} ({len(compiled.definition['States'])} top-level states)")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Workflow documents.")],
) -> None:
    """Check workflows; list every problem (node and field) and exit 2 if any is invalid."""
    invalid = 0
    for path in files:
        try:
            compile_workflow(load_file(path))
            out.print(f"[green]✓[/] {path}")
        except WorkflowInvalid as exc:
            invalid += 1
            _print_problems(path, exc)
    raise typer.Exit(EXIT_INVALID if invalid else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of workflow documents."""
    sys.stdout.write(json.dumps(workflow_schema(), indent=2) + "\n")


if __name__ == "__main__":
    app()
