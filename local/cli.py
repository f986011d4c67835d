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

from compiler import (
    CompiledWorkflow,
    WorkflowInvalid,
    compile_project,
    compile_workflow,
    load_file,
    load_project,
)
from compiler.limits import enforce_limits
from compiler.n8n import is_n8n, to_n8n
from compiler.n8n.importing import import_n8n
from compiler.passes.validate import parse_document
from compiler.project import WORKFLOW_SUFFIXES
from compiler.schema import workflow_schema
from local import cdk_commands
from local.persistence import DEFAULT_STATE_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="sfnflow: n8n-style workflows on AWS Step Functions, locally on moto.")
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2


def _compile(path: Path, pins: dict[str, Any] | None = None) -> CompiledWorkflow:
    """Compile FILE; ``pins`` (``run --pin``) join its pinData, so those nodes are compiled
    to run on the runner, which applies pins."""
    try:
        document = load_file(path)
        if pins and isinstance(document, dict):
            if is_n8n(document):  # n8n's pinData holds n8n items
                pins = {node: [{"json": item} for item in items] for node, items in pins.items()}
            pin_data = document.get("pinData")
            document = {**document, "pinData": {
                **(pin_data if isinstance(pin_data, dict) else {}), **pins}}
        compiled = enforce_limits(compile_workflow(document))
    except WorkflowInvalid as exc:
        _print_problems(path, exc)
        raise typer.Exit(EXIT_INVALID) from None
    for note in compiled.manifest.get("notes") or []:
        err.print(f"[yellow]note[/] {note}", highlight=False)
    return compiled


def _with_children(path: Path, compiled: CompiledWorkflow,
                   directory: Path | None) -> dict[str, CompiledWorkflow]:
    """The workflow and every workflow it runs (transitively), found by name among the
    documents in ``directory`` (default: the file's folder) and compiled together."""
    if not compiled.manifest.get("children"):
        return {compiled.name: compiled}
    try:
        return compile_project(load_project(path, directory))
    except WorkflowInvalid as exc:
        _print_problems(path, exc)
        raise typer.Exit(EXIT_INVALID) from None


def _print_problems(path: Path, exc: WorkflowInvalid) -> None:
    err.print(f"[bold red]✗ {path}[/]: {len(exc.problems)} problem(s)")
    for problem in exc.problems:
        where = f"node [bold]{problem.node}[/]" if problem.node else "workflow"
        if problem.workflow is not None:
            where = f"workflow [bold]{problem.workflow}[/] {where}"
        field = f" [cyan]{problem.field}[/]" if problem.field else ""
        err.print(f"  - {where}{field}: {problem.message}", highlight=False, markup=True)


def _read_json_option(option: str, value: str | None) -> Any:
    """The JSON of an option given inline or as ``@file``; exit 2 with a message if bad."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            err.print(f"[red]{option} {value}: {exc.strerror}[/]")
            raise typer.Exit(EXIT_INVALID) from None
        except UnicodeDecodeError as exc:
            err.print(f"[red]{option} {value}: not UTF-8 text (byte offset {exc.start})[/]")
            raise typer.Exit(EXIT_INVALID) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        err.print(f"[red]{option} is not valid JSON: {exc}[/]")
        raise typer.Exit(EXIT_INVALID) from None
    except RecursionError:
        err.print(f"[red]{option}: the JSON is nested too deep to read[/]")
        raise typer.Exit(EXIT_INVALID) from None
    except ValueError as exc:  # an integer longer than Python reads (int_max_str_digits)
        err.print(f"[red]{option}: {exc}[/]", highlight=False)
        raise typer.Exit(EXIT_INVALID) from None


def _read_input(value: str | None) -> Any:
    return _read_json_option("--input", value)


def _read_pins(values: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """``--pin NODE=@file.json`` / ``--pin NODE=<JSON>``: items (a list of objects, or one
    object) per node. The value starts at the first ``=`` followed by ``@``, ``[`` or ``{``."""
    pins: dict[str, list[dict[str, Any]]] = {}
    for value in values or []:
        split = next((i for i, char in enumerate(value)
                      if char == "=" and value[i + 1:i + 2] in ("@", "[", "{")), -1)
        if split <= 0:
            err.print(f"[red]--pin {value!r}: expected NODE=@file.json or NODE=<JSON items>[/]")
            raise typer.Exit(EXIT_INVALID)
        node, items = value[:split], _read_json_option(f"--pin {value[:split]}",
                                                       value[split + 1:])
        items = [items] if isinstance(items, dict) else items
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            err.print(f"[red]--pin {node}: the items must be a JSON list of objects[/]")
            raise typer.Exit(EXIT_INVALID)
        pins[node] = items
    return pins


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
        colour = {"success": "green", "error": "red", "pinned": "cyan",
                  "cached": "blue"}.get(node["status"], "dim")
        table.add_row(name, f"[{colour}]{node['status']}[/]", str(node["items"] or 0),
                      str(node["attempts"]), str(node["durationMs"]))
    out.print(table)
    colour = "green" if report["status"] == "SUCCEEDED" else "red"
    out.print(f"status: [bold {colour}]{report['status']}[/]")
    if report["error"]:
        out.print(f"error: {report['error']}", highlight=False)
    if report.get("cost"):
        from local.report import cost_line

        out.print(cost_line(report["cost"]), highlight=False)
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
    pin: Annotated[list[str] | None, typer.Option(
        "--pin", help="Pin a node: NODE=@items.json or NODE='[{...}]' (repeatable; joins "
        "and overrides the document's pinData).")] = None,
    workflows: Annotated[Path | None, typer.Option(
        "--workflows", help="Folder holding the workflows FILE runs (found by `name`); "
        "default: FILE's folder.", file_okay=False, exists=True)] = None,
) -> None:
    """Run FILE (and the workflows it runs) on the embedded cloud (moto); print the result."""
    extra_pins = _read_pins(pin)
    compiled = _compile(file, extra_pins)
    project = _with_children(file, compiled, workflows) | {compiled.name: compiled}
    user_input = _read_input(input)
    from local.cloud import LocalCloud
    from local.report import build_report, recorded_cost

    with LocalCloud(time_scale=time_scale) as cloud:
        # pinData joined by --pin; --no-pins drops only the document's own
        pins = extra_pins if no_pins else compiled.graph.workflow.pinData
        try:  # a credential the workflow names is missing or of the wrong type
            cloud.deploy_project(project)
        except WorkflowInvalid as exc:
            _print_problems(file, exc)
            raise typer.Exit(EXIT_INVALID) from None
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
                              finished.history, finished.output,
                              cost=recorded_cost(execution_id, compiled.graph))
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


def _workflow_files(paths: list[Path]) -> list[Path]:
    """The paths given, a folder standing for every workflow document under it."""
    return [found for path in paths for found in (
        sorted(p for p in path.rglob("*") if p.suffix in WORKFLOW_SUFFIXES and p.is_file())
        if path.is_dir() else [path])]


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(
        help="Workflow documents, or folders of them (searched recursively).")],
) -> None:
    """Check workflows; list every problem (node and field) and exit 2 if any is invalid."""
    invalid = 0
    for path in _workflow_files(files):
        try:
            enforce_limits(compile_workflow(load_file(path)))
            out.print(f"[green]✓[/] {path}")
        except WorkflowInvalid as exc:
            invalid += 1
            _print_problems(path, exc)
    raise typer.Exit(EXIT_INVALID if invalid else 0)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="An n8n workflow, as n8n exports it (JSON).")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write sfnflow's document here (.json, else YAML).")] = None,
) -> None:
    """Convert an n8n workflow to sfnflow's document; list what does not run as in n8n
    (node, field, why). Every command also reads n8n's JSON directly."""
    try:
        document = load_file(file)
    except WorkflowInvalid as exc:
        _print_problems(file, exc)
        raise typer.Exit(EXIT_INVALID) from None
    if not is_n8n(document):
        err.print(f"[bold red]✗ {file}[/]: not an n8n workflow (no n8n connections or nodes)")
        raise typer.Exit(EXIT_INVALID)
    converted, problems = import_n8n(document, file.stem)
    text = _document_text(converted, json_format=output is not None
                          and output.suffix == ".json")
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output} ({len(converted['nodes'])} nodes)")
    else:
        sys.stdout.write(text)
    for problem in problems:
        where = f"node {problem.node!r}" if problem.node else "workflow"
        err.print(f"[yellow]not supported[/] {where} {problem.field}: {problem.message}",
                  highlight=False, markup=True)


@app.command("export")
def export_command(
    file: Annotated[Path, typer.Argument(help="Workflow document (JSON or YAML).")],
    n8n: Annotated[bool, typer.Option("--n8n", help="As n8n's workflow JSON (the only "
                                                    "format for now).")] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Write it here.")] = None,
) -> None:
    """Write FILE in another tool's format: ``--n8n`` for n8n's editor (import-export)."""
    if not n8n:
        err.print("choose a format: --n8n")
        raise typer.Exit(EXIT_INVALID)
    try:
        document = load_file(file)
        if not is_n8n(document) or not isinstance(document.get("connections"), dict):
            parse_document(document)  # its shape; n8n's editor takes any node type
            document = to_n8n(document)
    except WorkflowInvalid as exc:
        _print_problems(file, exc)
        raise typer.Exit(EXIT_INVALID) from None
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


def _document_text(document: dict[str, Any], *, json_format: bool) -> str:
    if json_format:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


@app.command()
def schema() -> None:
    """Print the JSON Schema of workflow documents."""
    sys.stdout.write(json.dumps(workflow_schema(), indent=2) + "\n")


# ---------------------------------------------------------------- plan and graph (presentation;
# the logic is compiler/explain.py and compiler/render.py)


def _read_weights(value: str | None) -> dict[str, Any] | None:
    weights = _read_json_option("--weights", value)
    if weights is not None and not isinstance(weights, dict):
        err.print("[red]--weights must be a JSON object: {\"node name\": seconds, ...}[/]")
        raise typer.Exit(EXIT_INVALID)
    return weights


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _block_label(block: Any) -> str:
    from rich.markup import escape

    if block.kind == "node":
        state = f" · {block.state}" if block.state else ""
        if block.why:
            state += f" ({escape(block.why)})"
        waits = f" [green](waits for {escape(', '.join(block.waits_for))})[/]" \
            if block.waits_for else ""
        return (f"{escape(block.label)}{waits} [dim]{block.node_type}{state} · "
                f"{_seconds(block.seconds)}[/]")
    colour = {"sequence": "bold", "parallel": "bold cyan", "guard": "yellow",
              "map": "bold magenta", "flow": "bold green", "chain": "green"}.get(block.kind,
                                                                               "bold")
    return f"[{colour}]{escape(block.label)}[/] [dim]· {_seconds(block.seconds)}[/]"


def _add_blocks(block: Any, tree: Any) -> None:
    for child in block.children:
        _add_blocks(child, tree.add(_block_label(child)))


def _names(names: list[str], limit: int = 8) -> str:
    from rich.markup import escape

    shown = ", ".join(escape(name) for name in names[:limit])
    return shown + (f" [dim]… (+{len(names) - limit})[/]" if len(names) > limit else "")


def _render_decisions(explanation: Any) -> None:
    """The compiler's block decisions and their reasons (the node ones are in the tree)."""
    from rich.markup import escape

    if explanation.decisions is None:
        return
    shown = explanation.decisions.to_dict()
    for name, loop in shown["loops"].items():
        kind = "distributed" if loop["distributed"] else "inline"
        out.print(f"[bold]loop[/] {escape(name)}: {kind} — {escape(loop['reason'])}")
    for segment in shown["segments"]:
        out.print(f"[bold]segment[/] {_names(segment['nodes'])}: {segment['as']} — "
                  f"{escape(segment['reason'])}")
    for chain in shown["fused"]:
        out.print(f"[bold]fused[/] {_names(chain['nodes'])} — {escape(chain['reason'])}")


def _render_plan(explanation: Any) -> None:
    from rich.markup import escape
    from rich.tree import Tree

    from compiler.explain import PRICING_ASSUMPTIONS

    e = explanation
    out.print(f"[bold]{escape(e.workflow)}[/]: {e.nodes} nodes, {e.connections} connections, "
              f"{e.states} states")
    root = Tree(_block_label(e.plan))
    _add_blocks(e.plan, root)
    out.print(root)
    _render_decisions(e)
    out.print("[bold]topological levels[/]")
    for number, level in enumerate(e.levels):
        out.print(f"  {number:>3}  {_names(level)}")
    path = e.critical_path
    shown = path if len(path) <= 20 else [*path[:12], "…", *path[-6:]]
    out.print(f"[bold]critical path[/] ({len(path)} nodes, {_seconds(e.critical_path_seconds)}): "
              + " → ".join(escape(name) for name in shown))
    table = Table(title="per execution" + (f" ({e.weighted_nodes} node durations given, "
                                            "others 1 s)" if e.weighted_nodes else
                                            " (1 s per node)"))
    for column in ("", "all branches live", "guarded blocks skipped"):
        table.add_column(column, justify="left" if not column else "right")
    live, skipped = e.run.live, e.run.skipped
    ratio = f"{e.makespan_ratio:.3f}" + ("" if e.makespan_ratio <= 1.0 + 1e-9 else " [yellow]>1[/]")
    table.add_row("makespan", _seconds(live.seconds), _seconds(skipped.seconds))
    table.add_row("makespan / critical path", ratio, "")
    table.add_row("state transitions", str(live.transitions), str(skipped.transitions))
    table.add_row("Lambda invocations", str(live.lambda_calls), str(skipped.lambda_calls))
    table.add_row("Standard $ / 1,000 runs", f"{e.cost_live.standard:.4f}",
                  f"{e.cost_skipped.standard:.4f}")
    express = f"{e.cost_live.express:.5f}" + (" [red](> 5 min)[/]" if e.express_too_long else "")
    table.add_row("Express $ / 1,000 runs", express, f"{e.cost_skipped.express:.5f}")
    out.print(table)
    out.print(f"[dim]prices: {PRICING_ASSUMPTIONS['region']}, {PRICING_ASSUMPTIONS['source']}; "
              "Express at 64 MB for the makespan (rounded up to 100 ms); free tiers, retries "
              "and Lambda charges excluded[/]")


@app.command()
def plan(
    file: Annotated[Path, typer.Argument(help="Workflow document (JSON or YAML).")],
    weights: Annotated[str | None, typer.Option(
        "--weights", "-w", help="Node durations: JSON {\"node\": seconds}, or @file.json "
        "(default 1 s per node). They only evaluate the plan `compile` emits.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show FILE's compiled plan: tree, levels, critical path, makespan, transitions, cost."""
    from compiler.explain import WeightsInvalid, explain

    compiled = _compile(file)
    try:
        explanation = explain(compiled, _read_weights(weights))
    except WeightsInvalid as exc:
        err.print(f"[red]--weights: {exc}[/]", highlight=False)
        raise typer.Exit(EXIT_INVALID) from None
    if as_json:
        sys.stdout.write(json.dumps(explanation.to_dict(), indent=2) + "\n")
    else:
        _render_plan(explanation)


@app.command()
def graph(
    file: Annotated[Path, typer.Argument(help="Workflow document (JSON or YAML).")],
    html: Annotated[Path | None, typer.Option(
        "--html", help="Write a self-contained HTML page (inline SVG) here.")] = None,
    direction: Annotated[str, typer.Option(help="Mermaid direction: LR or TD.")] = "LR",
) -> None:
    """Print FILE's DAG as Mermaid flowchart text (or write it as an HTML page)."""
    from compiler.render import html_page, mermaid

    if direction.upper() not in ("LR", "RL", "TD", "TB", "BT"):
        err.print(f"[red]--direction must be LR, RL, TD, TB or BT, not {direction!r}[/]")
        raise typer.Exit(EXIT_INVALID)
    compiled = _compile(file)
    if html:
        html.write_text(html_page(compiled.graph), encoding="utf-8")
        err.print(f"wrote {html} ({len(compiled.graph)} nodes)")
    else:
        sys.stdout.write(mermaid(compiled.graph, direction.upper()))


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    workflows: Annotated[Path | None, typer.Option(
        "--workflows", help="Deploy every workflow in this folder at start.",
        file_okay=False, exists=True)] = None,
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="SFNFLOW_API_KEY",
        help="Key the management routes require (x-api-key); default: a new random one.")
    ] = None,
    time_scale: Annotated[float, typer.Option(
        help="Multiply waits, retry intervals and the schedule clock.", min=0.0001)] = 1.0,
    state_dir: Annotated[str, typer.Option(
        "--state-dir", help="Keep workflows, executions, pins, waits, schedules and dead "
        "letters here across restarts ('': in memory).")] = str(DEFAULT_STATE_DIR),
    no_state: Annotated[bool, typer.Option(
        "--no-state", help="Keep nothing: everything in memory until the server stops.")
    ] = False,
) -> None:
    """Serve the REST API and webhooks on 127.0.0.1 with the embedded cloud behind them."""
    import time

    from compiler.errors import WorkflowInvalid as Invalid
    from local.persistence import StateError
    from local.serve import LocalPlatform

    folder = None if no_state or not state_dir else Path(state_dir)
    try:
        platform = LocalPlatform(port=port, workflows=workflows, api_key=api_key,
                                 time_scale=time_scale, state_dir=folder).__enter__()
    except StateError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(1) from None
    except Invalid as exc:
        _print_problems(workflows or Path("."), exc)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as exc:
        err.print(f"[red]cannot listen on 127.0.0.1:{port}: {exc.strerror}[/]")
        raise typer.Exit(1) from None
    out.print(f"[bold green]sfnflow[/] serving {platform.url}  "
              f"(OpenAPI: {platform.url}/openapi.json)")
    out.print(f"API key (x-api-key): [bold]{platform.api_key}[/]")
    if folder is not None:
        restored = platform.cloud.restored
        out.print(f"state: {folder} ({restored.items:,} items, {restored.objects:,} objects "
                  f"restored in {restored.seconds:.1f} s; {len(platform.recovered.resumed)} "
                  f"paused executions resumed, {len(platform.recovered.failed)} running "
                  "ones failed: retry them)", highlight=False)
    for name in platform.deployed:
        out.print(f"  deployed [bold]{name}[/]")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        platform.__exit__(None, None, None)


cdk_commands.register(app)  # sfnflow synth / sfnflow deploy

@app.command()
def watch(
    execution_id: Annotated[str, typer.Argument(help="The execution to follow.")],
    url: Annotated[str, typer.Option(help="Where `sfnflow serve` listens.")] =
    "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="SFNFLOW_API_KEY")] = None,
) -> None:
    """Follow an execution's progress live (the server's Server-Sent Events stream)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from local.watch import sse_events

    nodes: dict[str, str] = {}
    status = "RUNNING"
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.percentage:>5.1f}%  {task.fields[eta]}"), console=out)
    try:
        with bar:
            task = bar.add_task(execution_id, total=100, eta="")
            for event in sse_events(url, api_key, execution_id):
                if event["type"] == "executionFinished":
                    status = event["status"]
                elif event.get("node"):
                    nodes[event["node"]] = event.get("status") or "running"
                eta = event.get("etaSeconds")
                bar.update(task, completed=event.get("percent") or 0,
                           eta=f"ETA {eta:.1f}s" if isinstance(eta, int | float) else "")
    except (RuntimeError, requests_errors()) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    table = Table("node", "status")
    for name, node_status in nodes.items():
        table.add_row(name, node_status)
    out.print(table)
    out.print(f"execution {execution_id}: [bold]{status}[/]")
    raise typer.Exit(0 if status == "SUCCEEDED" else 1)


@app.command()
def prune(
    older_than: Annotated[float | None, typer.Option(
        "--older-than", min=0, help="Also delete executions that started more than DAYS "
        "days ago (default: only run data whose retention expired).")] = None,
    url: Annotated[str, typer.Option(help="Where `sfnflow serve` listens.")] =
    "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="SFNFLOW_API_KEY")] = None,
) -> None:
    """Delete expired run data of a running `sfnflow serve` now.

    moto never expires DynamoDB TTL items; in AWS, TTL does this by itself."""
    import requests

    try:
        response = requests.post(f"{url.rstrip('/')}/admin/prune",
                                 json={"olderThanDays": older_than},
                                 headers={"x-api-key": api_key or ""}, timeout=300)
    except requests.RequestException as exc:
        err.print(f"[red]cannot reach {url}: {exc}[/]")
        raise typer.Exit(1) from None
    if response.status_code != 200:
        err.print(f"[red]prune failed: HTTP {response.status_code} {response.text}[/]",
                  highlight=False)
        raise typer.Exit(1)
    result = response.json()
    deleted = result.get("deleted") or {}
    out.print(f"deleted before {result.get('before')}: " + (", ".join(
        f"{count} {table}" for table, count in sorted(deleted.items())) or "nothing"),
              soft_wrap=True)
    for table in result.get("skipped") or []:
        out.print(f"[yellow]skipped {table}: not allowed to scan it[/]")


def requests_errors() -> type[Exception]:
    import requests

    return requests.RequestException


if __name__ == "__main__":
    app()
