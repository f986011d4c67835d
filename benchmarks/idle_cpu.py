"""CPU an idle ``sfnflow serve`` burns: nothing runs, so it should be close to zero.

    .venv/bin/python -m benchmarks.idle_cpu                      # 10 s, no workflows
    .venv/bin/python -m benchmarks.idle_cpu --seconds 20 --workflows examples
    .venv/bin/python -m benchmarks.idle_cpu --pid 12345          # a server already running

It starts ``sfnflow serve --port 0`` (unless ``--pid`` names one), waits until it prints
its address and a few seconds more for start-up work to settle, then reads the process's
user + system CPU time (``/proc/<pid>/stat``, fields 14 and 15) at the start and the end
of the window. It prints the share of one core used over the window and, to find a loop
that spins, the busiest threads (``/proc/<pid>/task/*/stat``; their names are the Python
thread names where the interpreter sets them, else the process's). Linux only.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(stat_path: Path) -> tuple[str, int]:
    """(name, utime + stime in clock ticks) of a process or thread's stat file."""
    text = stat_path.read_text()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    found: dict[int, tuple[str, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = cpu_ticks(task / "stat")
        except (OSError, ValueError):  # a thread ended meanwhile
            continue
    return found


def start_server(workflows: str | None, time_scale: float) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "local.cli", "serve", "--port", "0",
               "--time-scale", str(time_scale)]
    if workflows:
        command += ["--workflows", workflows]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, SFNFLOW_API_KEY="idle-cpu-benchmark"))
    assert process.stdout is not None
    for line in process.stdout:
        if "serving" in line:
            return process
    raise SystemExit(f"sfnflow serve ended before serving (exit {process.wait()})")


def measure(pid: int, seconds: float) -> tuple[float, list[tuple[float, int, str]]]:
    """(share of one core over ``seconds``, [(share, tid, name)] busiest threads first)."""
    before, threads_before = cpu_ticks(Path(f"/proc/{pid}/stat"))[1], thread_ticks(pid)
    started = time.monotonic()
    time.sleep(seconds)
    after, threads_after = cpu_ticks(Path(f"/proc/{pid}/stat"))[1], thread_ticks(pid)
    elapsed = time.monotonic() - started
    per_thread = []
    for tid, (name, ticks) in threads_after.items():
        used = ticks - threads_before.get(tid, (name, 0))[1]
        per_thread.append((used / TICKS / elapsed, tid, name))
    per_thread.sort(reverse=True)
    return (after - before) / TICKS / elapsed, per_thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="the measured window")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds to wait after start-up before measuring")
    parser.add_argument("--workflows", help="deploy this folder's workflows at start")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--pid", type=int, help="measure this running server instead")
    parser.add_argument("--threads", type=int, default=5, help="busiest threads to show")
    args = parser.parse_args(argv)
    process = None if args.pid else start_server(args.workflows, args.time_scale)
    pid = args.pid or (process.pid if process else 0)
    try:
        time.sleep(args.settle)
        share, threads = measure(pid, args.seconds)
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    print(f"idle CPU of sfnflow serve (pid {pid}) over {args.seconds:g} s: "
          f"{share * 100:.1f} % of one core")
    for used, tid, name in threads[:args.threads]:
        print(f"  thread {tid:>7} {name:<16} {used * 100:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
