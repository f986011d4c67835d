"""The one slow test: ``sfnflow synth`` through the pinned CDK CLI, with the real local
bundling (pip, arm64 wheels) and cdk-nag as a synth-time validation (an unacknowledged
finding fails the synth). cfn-lint runs on the unit-test template (test_nag_and_lint)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sfnflow_cdk.functions import ALL_FUNCTIONS

from local import cdk_commands

from .conftest import ROOT


def test_cdk_json_runs_the_app_quietly() -> None:
    config = json.loads((ROOT / "cdk.json").read_text())
    assert config["app"] == ".venv/bin/python cdk/app.py"
    assert config["notices"] is False
    assert config["context"]["cli-telemetry"] is False
    cli = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert cli.startswith("2.")  # 3.x cannot read aws-cdk-lib 2's cloud assembly


def test_commands_wrap_the_pinned_cli() -> None:
    assert cdk_commands.cdk_command("deploy", "prod", "--require-approval", "never") == [
        str(ROOT / "node_modules/.bin/cdk"), "deploy", "-c", "stage=prod",
        "--require-approval", "never"]


def test_synth_bundles_locally_and_passes_nag(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, "-m", "local.cli", "synth", "--stage", "ci", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    template = json.loads((out / "sfnflow-ci.template.json").read_text())
    assets = json.loads((out / "sfnflow-ci.assets.json").read_text())["files"]
    # The platform's code; CDK's custom-resource provider brings its own (JavaScript) asset.
    [code] = [a["source"]["path"] for a in assets.values()
              if a["source"].get("packaging") == "zip"
              and (out / a["source"]["path"] / "functions").is_dir()]
    bundle = out / code
    assert (bundle / "functions" / "handlers" / "code_runner.py").is_file()
    assert (bundle / "compiler" / "pipeline.py").is_file()
    # Bytecode for the runtime's 3.12, beside every module (tests/cdk/test_bundling.py).
    assert all((py.parent / "__pycache__" / f"{py.stem}.cpython-312.pyc").is_file()
               for py in bundle.rglob("*.py"))
    assert list((bundle / "pydantic_core").glob("*cpython-312-aarch64-linux-gnu.so"))
    assert not (bundle / "moto").exists() and not (bundle / "typer").exists()
    functions = [r for r in template["Resources"].values()
                 if r["Type"] == "AWS::Lambda::Function"
                 and r["Properties"]["Runtime"].startswith("python")]
    assert len(functions) == len(ALL_FUNCTIONS)
    assert {f["Properties"]["Code"]["S3Key"] for f in functions} == {f"{code[6:]}.zip"}
