"""Time bounds that hold on a loaded machine: a test that asserts "refused quickly"
measures the work itself, not the wall clock."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def cpu_clock() -> Iterator[Callable[[], float]]:
    """This thread's CPU seconds since entering, with the cyclic GC paused meanwhile:
    independent of other processes' load and of a collection of the whole test process's
    heap, while a hang or an expansion (both burn CPU) still counts in full."""
    enabled = gc.isenabled()
    gc.disable()
    started = time.thread_time()
    try:
        yield lambda: time.thread_time() - started
    finally:
        if enabled:
            gc.enable()
