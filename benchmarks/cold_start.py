"""Cold-start import time of every Lambda handler, with and without shipped bytecode.

    .venv/bin/python -m benchmarks.cold_start                 # every handler, 3 runs each
    .venv/bin/python -m benchmarks.cold_start --runs 5 node_runner api

Each measurement is a fresh interpreter timing ``import functions.handlers.<name>`` — what
a Lambda cold start does before the first event. Bytecode is steered with
``PYTHONPYCACHEPREFIX`` (never writing: ``PYTHONDONTWRITEBYTECODE``):

- **bytecode**: every module loads from a ``.pyc`` — the asset as ``cdk/sfnflow_cdk/
  bundling.py`` now builds it (``compileall``, unchecked-hash);
- **source**: the standard library loads from its ``.pyc`` (the Lambda runtime ships
  them), everything the asset holds (``functions/``, ``compiler/`` and the dependencies in
  the virtualenv) compiles from source at every start — Lambda's read-only code directory
  without ``__pycache__``, as the asset was before.

CPU seconds come first: imports are CPU-bound, and CPU time stays steady when other
processes share the machine, where wall time does not. It runs on this machine's
interpreter (the Lambda runtime is CPython 3.12 on arm64), so the numbers are relative:
the ratio between the columns is what the bytecode buys. The last column counts the
compiler modules a handler imports (the compiler's passes and lowerings load only where
workflows are compiled).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = ("node_runner", "code_runner", "api", "webhooks", "execution_events",
            "error_router", "stream", "reconciler", "triggers", "registration")
_PROBE = """
import json, sys, time
started, cpu = time.perf_counter(), time.process_time()
import functions.handlers.{name}
print(json.dumps({{"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                   "compiler": sum(1 for m in sys.modules if m.startswith("compiler."))}}))
"""


def available(names: Sequence[str]) -> list[str]:
    return [n for n in names if (ROOT / "functions" / "handlers" / f"{n}.py").is_file()]


def probe(name: str, cache: Path, write: bool = False) -> dict[str, float]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([sys.executable, "-c", _PROBE.format(name=name)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def caches(names: Sequence[str], workdir: Path) -> tuple[Path, Path]:
    """A bytecode cache holding every module the handlers import, and the same cache
    without the asset's modules (anything under the repository, virtualenv included)."""
    full, stdlib_only = workdir / "full", workdir / "stdlib"
    for name in names:
        probe(name, full, write=True)
    shutil.copytree(full, stdlib_only)
    for asset in {ROOT, Path(sys.prefix)}:  # the packages, and the virtualenv's dependencies
        shutil.rmtree(stdlib_only / asset.relative_to(asset.anchor), ignore_errors=True)
    return full, stdlib_only


Row = tuple[str, float, float, float, float, int]


def measure(names: Sequence[str], runs: int) -> list[Row]:
    """Per handler: CPU and wall seconds of the import from source and from bytecode
    (medians), and the compiler modules it loads."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sfnflow-cold-") as tmp:
        full, stdlib_only = caches(names, Path(tmp))
        for name in names:
            warm = [probe(name, full) for _ in range(runs)]
            cold = [probe(name, stdlib_only) for _ in range(runs)]
            rows.append((name, statistics.median(r["cpu"] for r in cold),
                         statistics.median(r["cpu"] for r in warm),
                         statistics.median(r["seconds"] for r in cold),
                         statistics.median(r["seconds"] for r in warm),
                         int(warm[0]["compiler"])))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("handlers", nargs="*", default=HANDLERS)
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters per cell")
    args = parser.parse_args(argv)
    names = available(args.handlers)
    print(f"Python {sys.version.split()[0]}, median of {args.runs} fresh interpreters; CPU "
          "seconds of the import (steady on a busy machine), wall seconds in brackets")
    print(f"{'handler':<18} {'source':>16} {'bytecode':>16} {'speed-up':>8} {'compiler':>8}")
    for name, cold, warm, cold_wall, warm_wall, compiler in measure(names, args.runs):
        print(f"{name:<18} {cold:>6.2f} ({cold_wall:>6.2f}) {warm:>6.2f} ({warm_wall:>6.2f}) "
              f"{cold / warm:>7.1f}x {compiler:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
