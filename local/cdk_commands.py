"""``sfnflow synth`` and ``sfnflow deploy``: the CDK app (``cdk/app.py``) through the CDK
CLI pinned in ``package.json`` (``node_modules/.bin/cdk``, installed by ``npm ci``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parents[1]
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"

Stage = Annotated[str, typer.Option(help="Deployment stage: names every resource "
                                         "sfnflow-<stage>-… (the app's `stage` context).")]


def cdk_command(action: str, stage: str, *extra: str) -> list[str]:
    return [str(CDK_CLI), action, "-c", f"stage={stage}", *extra]


def run_cdk(command: list[str]) -> int:
    if not CDK_CLI.exists():
        typer.echo(f"{CDK_CLI} is missing: run `npm ci` in {ROOT}", err=True)
        return 1
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def register(app: typer.Typer) -> None:
    @app.command()
    def synth(
        stage: Stage = "dev",
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Cloud assembly directory (default cdk.out).")] = None,
    ) -> None:
        """Synthesize the CloudFormation template (offline; cdk-nag runs and must pass)."""
        extra = ["--quiet"] + (["--output", str(output.resolve())] if output else [])
        raise typer.Exit(run_cdk(cdk_command("synth", stage, *extra)))

    @app.command()
    def deploy(
        stage: Stage = "dev",
        yes: Annotated[bool, typer.Option(
            "--yes", help="Do not ask before IAM or security-group changes.")] = False,
    ) -> None:
        """Deploy the platform with `cdk deploy` (uses your AWS credentials)."""
        extra = ["--require-approval", "never"] if yes else []
        raise typer.Exit(run_cdk(cdk_command("deploy", stage, *extra)))
