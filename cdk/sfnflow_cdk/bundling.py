"""The Lambda code asset, bundled on this machine (no Docker).

One asset serves every function: the repository's ``functions/`` and ``compiler/``
packages plus the runtime dependencies of ``pyproject.toml`` (less the local-only ones),
installed by pip as Linux arm64 / CPython 3.12 wheels. ``--only-binary=:all:`` with an
explicit platform makes pip pick the wheels Lambda needs whatever machine synthesizes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PYTHON_VERSION = "3.12"
PLATFORM = "manylinux2014_aarch64"
PACKAGES = ("functions", "compiler")
# Dependencies only the local runtime and CLI use; they never run in Lambda.
LOCAL_ONLY = frozenset({"moto", "typer", "rich"})
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def _name(requirement: str) -> str:
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower().replace("_", "-")


def lambda_requirements(pyproject: Path) -> list[str]:
    """The project's runtime dependencies, as pip requirements, without the local-only ones."""
    with pyproject.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return [d for d in dependencies if _name(d) not in LOCAL_ONLY]


def pip_command(output_dir: str, requirements: list[str]) -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
            "--disable-pip-version-check", "--target", output_dir,
            "--platform", PLATFORM, "--implementation", "cp",
            "--python-version", PYTHON_VERSION, "--only-binary=:all:", *requirements]


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Copies the packages into the asset and pip-installs the dependencies next to them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @jsii.member(jsii_name="tryBundle")
    def try_bundle(self, output_dir: str, *_options: Any, **_kwargs: Any) -> bool:
        for package in PACKAGES:
            shutil.copytree(self.root / package, Path(output_dir) / package, ignore=_IGNORED,
                            dirs_exist_ok=True)
        requirements = lambda_requirements(self.root / "pyproject.toml")
        subprocess.run(pip_command(output_dir, requirements), check=True)
        return True


def lambda_code(root: Path) -> lambda_.Code:
    """The code of every sfnflow function. The asset is hashed over its inputs only
    (the packages and ``pyproject.toml``), not the rest of the repository."""
    return lambda_.Code.from_asset(
        str(root),
        exclude=["*", *(f"!{p}" for p in PACKAGES), *(f"!{p}/**" for p in PACKAGES),
                 "!pyproject.toml", "**/__pycache__", "**/*.pyc"],
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-bundled-locally"),
            local=LocalPipBundling(root),
        ),
    )
