"""Time-zone offset tables for Luxon inside QuickJS (which has no Intl and no tz database).

Luxon asks a zone for its UTC offset at an instant. Inside a time-limited context JavaScript
cannot call Python, so the frame carries, per zone the node run may use, the list of offset
changes between 1900 and 2100 computed here from Python's ``zoneinfo`` (probed every 14 days,
each change located to the second by bisection). Outside that range the nearest entry holds.
Computed once per zone and process (a few tens of milliseconds), then cached.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_START = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
_STEP = 14 * 86400
_ZONE_NAME = re.compile(r"""["'`]([A-Z][A-Za-z_+\-]*(?:/[A-Za-z0-9_+\-]+){1,2})["'`]""")


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset(zone: ZoneInfo, seconds: int) -> int:
    delta = datetime.fromtimestamp(seconds, zone).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


@lru_cache(maxsize=64)
def transitions(name: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(instants in ms, offsets in minutes): offset[i] holds from instant[i] on; None if unknown."""
    zone = _zone(name)
    if zone is None:
        return None
    instants = [_START * 1000]
    offsets = [_offset(zone, _START)]
    previous_at, previous = _START, offsets[0]
    for at in range(_START + _STEP, _END, _STEP):
        current = _offset(zone, at)
        if current != previous:
            low, high = previous_at, at  # offset(low) == previous, offset(high) != previous
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == previous:
                    low = middle
                else:
                    high = middle
            instants.append(high * 1000)
            offsets.append(_offset(zone, high))
        previous_at, previous = at, current
    return tuple(instants), tuple(offsets)


def zone_names(sources: list[str]) -> set[str]:
    """IANA zone names written as string literals in expressions or code ("Europe/Berlin")."""
    return {
        match
        for source in sources
        for match in _ZONE_NAME.findall(source)
        if _zone(match) is not None
    }


def tables(names: set[str]) -> dict[str, list[list[int]]]:
    """JSON-ready tables for the frame: {zone: [instants, offsets]} for every known zone."""
    out: dict[str, list[list[int]]] = {}
    for name in sorted(names):
        table = transitions(name)
        if table is not None:
            out[name] = [list(table[0]), list(table[1])]
    return out
