"""How much of a node's console output a node run keeps: the one bound on recorded logs.

A JavaScript Code node's ``console.log`` lines (``functions.js``, handed over in
``ctx.extras["logs"]``) are recorded with its node run, in the same DynamoDB item as its
inline output. An item is at most 400 KB (``functions.store.limits``) and the inline output
alone may take ``Config.inline_output_limit`` (300,000 bytes) of it, so a loop that logs
every item must not be able to push the record past the limit. Logs are for reading, not
for carrying data: the first ``MAX_LOG_LINES`` lines and ``MAX_LOG_BYTES`` bytes (UTF-8)
are kept, and a last line says how many were left out.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_LOG_LINES = 100
MAX_LOG_BYTES = 16 * 1024
_MARKER_ROOM = 64  # bytes kept free for the marker line, so the total stays in bound


def truncation_marker(dropped: int) -> str:
    return f"[sfnflow: {dropped} more log line{'s' if dropped != 1 else ''} truncated]"


def _cut(line: str, room: int) -> str:
    """``line`` cut to at most ``room`` UTF-8 bytes, at a character boundary."""
    return line.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")


def bounded_logs(lines: Iterable[object] | None) -> list[str] | None:
    """The lines a node run records, within the bounds above; None when there are none,
    so a node that logged nothing has no logs attribute at all."""
    if not lines:
        return None
    every = [str(line) for line in lines]
    kept: list[str] = []
    room = MAX_LOG_BYTES - _MARKER_ROOM
    for line in every[:MAX_LOG_LINES]:
        size = len(line.encode("utf-8", "surrogatepass"))
        if size > room:
            break
        kept.append(line)
        room -= size
    dropped = len(every) - len(kept)
    if dropped:
        if room > 0 and len(kept) < MAX_LOG_LINES:  # the start of the line that crossed
            kept.append(_cut(every[len(kept)], room) + " ...")
        kept.append(truncation_marker(dropped))
    return kept
