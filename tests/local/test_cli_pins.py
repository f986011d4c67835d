"""``sfnflow run --pin``: pins from files or inline JSON, merged with the document's pinData."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from local.cli import app

runner = CliRunner()

WORKFLOW = (
    "name: pin-cli\n"
    "nodes:\n"
    "  - {name: Start, type: manualTrigger}\n"
    "  - {name: Fetch, type: httpRequest, parameters: {url: 'http://127.0.0.1:9/x'}}\n"
    "  - {name: Tag, type: set, parameters: {values: {who: '{% $json.name %}'}}}\n"
    "connections: [{from: Start, to: Fetch}, {from: Fetch, to: Tag}]\n"
    "pinData: {Fetch: [{name: doc}]}\n"
)


def _run(tmp_path: Path, *args: str) -> tuple[int, dict[str, object] | str]:
    wf = tmp_path / "pin-cli.yaml"
    wf.write_text(WORKFLOW)
    result = runner.invoke(app, ["run", str(wf), "--json", "--time-scale", "0.01", *args])
    try:
        return result.exit_code, json.loads(result.output)
    except ValueError:
        return result.exit_code, result.output


def test_pin_from_a_file_overrides_the_document(tmp_path: Path) -> None:
    items = tmp_path / "fetch.json"
    items.write_text('[{"name": "file"}]')
    code, report = _run(tmp_path, "--pin", f"Fetch=@{items}")
    assert code == 0, report
    assert isinstance(report, dict)
    assert report["output"] == {"Tag": [{"name": "file", "who": "file"}]}


def test_inline_pins_also_pin_native_nodes(tmp_path: Path) -> None:
    # Tag is a native Pass state unless pinned: --pin joins pinData, which the compiler
    # reads, so Tag runs on the runner and its pin applies.
    code, report = _run(tmp_path, "--pin", 'Tag={"who": "pinned=yes"}', "--no-pins",
                        "--pin", 'Fetch=[{"name": "inline"}]')
    assert code == 0, report
    assert isinstance(report, dict)
    nodes = report["nodes"]
    assert isinstance(nodes, dict)
    assert nodes["Fetch"]["status"] == nodes["Tag"]["status"] == "pinned"
    assert report["output"] == {"Tag": [{"who": "pinned=yes"}]}


def test_bad_pins_exit_2(tmp_path: Path) -> None:
    for args, message in [
        (["--pin", "Fetch"], "expected NODE=@file.json"),
        (["--pin", "Fetch=[1, 2]"], "JSON list of objects"),
        (["--pin", "Fetch=[oops"], "not valid JSON"),
        (["--pin", f"Fetch=@{tmp_path / 'missing.json'}"], "missing.json"),
        (["--pin", 'Ghost=[{"a": 1}]'], "unknown node 'Ghost'"),
    ]:
        code, output = _run(tmp_path, *args)
        assert code == 2, (args, output)
        assert message in " ".join(str(output).split()), (args, output)
