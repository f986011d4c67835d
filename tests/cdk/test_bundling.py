"""The Lambda asset ships bytecode for the runtime's Python (cdk/sfnflow_cdk/bundling.py).

Rules encoded (Python's import system, PEP 3147/552; Lambda's code directory is read-only):
a ``.pyc`` is read only by the interpreter whose magic number it carries, from
``__pycache__/<module>.<cache tag>.pyc``; an ``unchecked-hash`` pyc is used without looking
at the source, so a zip that drops mtimes and a directory nobody may write both keep it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sfnflow_cdk import bundling

from .conftest import ROOT

RUNTIME = bundling.runtime_python()
needs_runtime = pytest.mark.skipif(RUNTIME is None, reason="no CPython 3.12 on this machine")


def pyc_of(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.{bundling.PYC_TAG}.pyc"


def sources(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.py"))


def test_the_runtime_interpreter_is_cpython_312() -> None:
    """The Lambda runtime is python3.12 (cdk/sfnflow_cdk/functions.py)."""
    from sfnflow_cdk.functions import RUNTIME as LAMBDA_RUNTIME

    assert LAMBDA_RUNTIME.name == f"python{bundling.PYTHON_VERSION}"
    if RUNTIME is not None:
        done = subprocess.run([RUNTIME, "-c", "import importlib.util, sys; "
                               "sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER)"],
                              capture_output=True, check=True)
        assert done.stdout == bundling.PYC_MAGIC


@needs_runtime
def test_the_bundler_compiles_every_module_of_the_asset(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The real bundler over the real packages; only pip (wheels from the network) is stubbed.
    monkeypatch.setattr(bundling, "pip_command", lambda *_: [sys.executable, "-c", "pass"])
    out = tmp_path / "asset"
    assert bundling.LocalPipBundling(ROOT).try_bundle(str(out))
    modules = sources(out)
    assert len(modules) > 50 and {p.parts[len(out.parts)] for p in modules} == \
        set(bundling.PACKAGES)
    missing = [p for p in modules if not pyc_of(p).is_file()]
    assert not missing
    for module in modules:
        header = pyc_of(module).read_bytes()[:8]
        assert header[:4] == bundling.PYC_MAGIC, module
        # PEP 552 flags: bit 0 hash-based, bit 1 check_source — unchecked hash is 0b01.
        assert int.from_bytes(header[4:8], "little") == 0b01, module


@needs_runtime
def test_a_read_only_asset_imports_from_its_bytecode(tmp_path: Path) -> None:
    package = tmp_path / "probe"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "mod.py").write_text("VALUE = 42\n")
    bundling.compile_bytecode(str(tmp_path))
    for source in sources(tmp_path):  # sources newer than their pycs do not matter
        os.utime(source, (2_000_000_000, 2_000_000_000))
    for path in [*tmp_path.rglob("*"), tmp_path]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = sorted(tmp_path.rglob("*"))
    done = subprocess.run([str(RUNTIME), "-v", "-c", "import probe.inner.mod as m; print(m.VALUE)"],
                          cwd=tmp_path, capture_output=True, text=True, check=True,
                          env={"PATH": os.environ["PATH"]})
    assert done.stdout.strip() == "42"
    assert f"code object from '{pyc_of(package / 'inner' / 'mod.py')}'" in done.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_without_a_312_interpreter_the_asset_ships_sources(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    monkeypatch.setattr(bundling, "runtime_python", lambda: None)
    (tmp_path / "m.py").write_text("X = 1\n")
    assert bundling.compile_bytecode(str(tmp_path)) is False
    assert not list(tmp_path.rglob("*.pyc"))
    assert "without bytecode" in capsys.readouterr().err
