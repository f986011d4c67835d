"""The Lambda code asset, bundled on this machine (no Docker).

One asset serves every function: the repository's ``functions/`` and ``compiler/``
packages plus the runtime dependencies of ``pyproject.toml`` (less the local-only ones),
installed by pip as Linux arm64 / CPython 3.12 wheels. ``--only-binary=:all:`` with an
explicit platform makes pip pick the wheels Lambda needs whatever machine synthesizes.

Then every module is compiled to bytecode for the runtime's interpreter: Lambda's code
directory is read-only, so without ``__pycache__`` every cold start compiles every module
it imports again (and can never cache it). A ``.pyc`` is only used by the interpreter
version that wrote it (its magic number), so the compiling interpreter must be CPython
3.12, found on this machine (``runtime_python``); the pycs are ``unchecked-hash``: the
interpreter trusts them without reading the source's mtime, which a zip does not keep.
Without a 3.12 interpreter the asset ships sources only (a warning says so).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PYTHON_VERSION = "3.12"
# importlib.util.MAGIC_NUMBER of CPython 3.12: the first 4 bytes of every .pyc it reads.
PYC_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
PYC_TAG = "cpython-312"
RUNTIME_PYTHON_ENV = "SFNFLOW_RUNTIME_PYTHON"  # an explicit CPython 3.12 interpreter
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


def _is_runtime_python(executable: str) -> bool:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == PYC_TAG


@cache
def runtime_python() -> str | None:
    """A CPython 3.12 interpreter on this machine (None if there is none): the
    ``SFNFLOW_RUNTIME_PYTHON`` setting, this interpreter, ``python3.12`` on the PATH, or
    a pyenv-installed 3.12."""
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [os.environ.get(RUNTIME_PYTHON_ENV), sys.executable,
                  shutil.which(f"python{PYTHON_VERSION}"),
                  *sorted(glob.glob(f"{home}/versions/{PYTHON_VERSION}.*/bin/python3"),
                          reverse=True)]
    return next((c for c in candidates if c and _is_runtime_python(c)), None)


def compile_command(python: str, directory: str) -> list[str]:
    """Byte-compile every module under ``directory`` into ``__pycache__`` (PEP 3147 names,
    which Lambda's interpreter looks up), trusted without checking the source."""
    return [python, "-m", "compileall", "-q", "-j", "0",
            "--invalidation-mode", "unchecked-hash", directory]


def compile_bytecode(directory: str) -> bool:
    """Compile ``directory`` for the runtime; False (and a warning) without a 3.12."""
    python = runtime_python()
    if python is None:
        print(f"sfnflow: no CPython {PYTHON_VERSION} here (set {RUNTIME_PYTHON_ENV}): the "
              "Lambda asset ships without bytecode and every cold start compiles it",
              file=sys.stderr)
        return False
    done = subprocess.run(compile_command(python, directory), check=False)
    if done.returncode != 0:  # a module that does not compile cannot be imported either
        print("sfnflow: some modules of the Lambda asset did not compile (see above)",
              file=sys.stderr)
    return True


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
        compile_bytecode(output_dir)
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
