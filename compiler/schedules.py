"""EventBridge Scheduler expressions: parse, validate, and compute when they fire. Pure.

Three forms, as EventBridge Scheduler reads them:

- ``rate(<n> minute|minutes|hour|hours|day|days)`` — every n units from the schedule's
  start (its StartDate, or when it was created); a day is 24 hours, DST or not.
- ``cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`` — AWS syntax:
  ``, - * /`` in every field, month names ``JAN-DEC``, day-of-week ``1-7`` = ``SUN-SAT``,
  exactly one of day-of-month and day-of-week is ``?``; day-of-month also takes ``L``
  (last day), ``L-n`` (n days before it), ``LW`` (last weekday) and ``nW`` (the weekday
  nearest day n, within the month); day-of-week takes ``L`` (Saturday), ``nL`` (the last
  such weekday of the month) and ``n#k`` (the k-th one; one expression only).
- ``at(yyyy-mm-ddThh:mm:ss)`` — once.

Cron and at fields are read in the schedule's IANA timezone. Daylight saving time follows
EventBridge Scheduler: a time that does not exist (the clock jumps forward over it) is
skipped, and a time that happens twice (the clock goes back) fires once, the first time.

Why not croniter: measured against these rules it fires a skipped 02:30 at 03:00 instead,
fires twice in the repeated hour, has no year field, no ``LW`` or ``L-n``, and numbers the
weekdays 0-6 from Sunday. A translation layer would have had to re-implement the day
rules, years and DST handling anyway; the arithmetic below is ~100 lines and checked
against croniter for the plain expressions they share (tests/compiler/test_schedules.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["At", "Cron", "Rate", "Schedule", "fire_times", "never_fires", "next_fire",
           "parse_expression", "validate_expression", "validate_timezone"]

YEAR_MIN, YEAR_MAX = 1970, 2199
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS day-of-week 1..7
_RATE_UNITS = {"minute": 60, "hour": 3_600, "day": 86_400}


@dataclass(frozen=True)
class Rate:
    seconds: int


@dataclass(frozen=True)
class DayRule:
    """Which days of a month a cron expression fires on (one of the fields is ``?``)."""

    days: frozenset[int] | None = None  # day-of-month numbers
    last_offset: int | None = None  # L (0) or L-n
    last_weekday: bool = False  # LW
    nearest_weekday: int | None = None  # nW
    weekdays: frozenset[int] | None = None  # Python weekday numbers (Monday = 0)
    last_of_weekday: int | None = None  # nL
    nth_weekday: tuple[int, int] | None = None  # n#k: (Python weekday, k)

    def matches(self, day: date) -> bool:
        last = _last_day(day.year, day.month)
        if self.days is not None:
            return day.day in self.days
        if self.last_offset is not None:
            return day.day == last - self.last_offset
        if self.last_weekday:
            return day == _nearest_weekday(day.replace(day=last))
        if self.nearest_weekday is not None:
            target = min(self.nearest_weekday, last)
            return day == _nearest_weekday(day.replace(day=target))
        if self.weekdays is not None:
            return day.weekday() in self.weekdays
        if self.last_of_weekday is not None:
            return day.weekday() == self.last_of_weekday and day.day + 7 > last
        if self.nth_weekday is not None:
            weekday, nth = self.nth_weekday
            return day.weekday() == weekday and (day.day - 1) // 7 + 1 == nth
        return False


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int]
    day: DayRule


@dataclass(frozen=True)
class At:
    moment: datetime  # naive: wall-clock time in the schedule's timezone


Schedule = Rate | Cron | At


def _last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _nearest_weekday(day: date) -> date:
    """The weekday nearest ``day`` without leaving its month (Quartz's ``W``)."""
    if day.weekday() == 5:  # Saturday: Friday, or Monday when Friday is last month
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    if day.weekday() == 6:  # Sunday: Monday, or Friday when Monday is next month
        last = _last_day(day.year, day.month)
        return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)
    return day


# --------------------------------------------------------------------------- parsing


def _value(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> int:
    upper = text.upper()
    if names and upper in names:
        return names.index(upper) + low
    if not text.isdigit():
        raise ValueError(f"{field}: {text!r} is not a number"
                         + (f" or one of {names[0]}-{names[-1]}" if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{field}: {number} is outside {low}-{high}")
    return number


def _field(text: str, low: int, high: int, field: str,
           names: tuple[str, ...] = ()) -> frozenset[int]:
    """A field of ``, - * /`` items as the set of values it selects."""
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{field}: the increment in {item!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, second = base.partition("-")
            start = _value(first, low, high, names, field)
            end = _value(second, low, high, names, field)
            if start > end:
                raise ValueError(f"{field}: the range {base!r} runs backwards")
        elif base:
            start = _value(base, low, high, names, field)
            end = high if slash else start
        else:
            raise ValueError(f"{field}: empty item in {text!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _python_weekday(aws_weekday: int) -> int:
    return (aws_weekday - 2) % 7  # AWS 1 = Sunday; Python 0 = Monday


def _day_of_month(text: str) -> DayRule:
    upper = text.upper()
    if upper == "L":
        return DayRule(last_offset=0)
    if upper == "LW":
        return DayRule(last_weekday=True)
    if match := re.fullmatch(r"L-(\d+)", upper):
        offset = int(match.group(1))
        if not 1 <= offset <= 30:
            raise ValueError(f"day-of-month: the offset in {text!r} must be 1-30")
        return DayRule(last_offset=offset)
    if match := re.fullmatch(r"(\d+)W", upper):
        return DayRule(nearest_weekday=_value(match.group(1), 1, 31, (), "day-of-month"))
    if "L" in upper or "W" in upper:
        raise ValueError(f"day-of-month: {text!r} — L, L-n, LW and nW stand alone")
    return DayRule(days=_field(text, 1, 31, "day-of-month"))


def _day_of_week(text: str) -> DayRule:
    upper = text.upper()
    if upper == "L":
        return DayRule(weekdays=frozenset({_python_weekday(7)}))
    if match := re.fullmatch(r"(\w+)L", upper):
        aws = _value(match.group(1), 1, 7, _WEEKDAYS, "day-of-week")
        return DayRule(last_of_weekday=_python_weekday(aws))
    if "#" in upper:
        if "," in upper:
            raise ValueError("day-of-week: with '#' the field holds one expression only")
        weekday, _, nth = upper.partition("#")
        aws = _value(weekday, 1, 7, _WEEKDAYS, "day-of-week")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ValueError(f"day-of-week: in {text!r} the instance after '#' must be 1-5")
        return DayRule(nth_weekday=(_python_weekday(aws), int(nth)))
    if "L" in upper:
        raise ValueError(f"day-of-week: {text!r} — L and nL stand alone")
    aws_days = _field(text, 1, 7, "day-of-week", _WEEKDAYS)
    return DayRule(weekdays=frozenset(_python_weekday(day) for day in aws_days))


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError(f"a cron expression has 6 fields (minutes hours day-of-month month "
                         f"day-of-week year), not {len(fields)}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?' "
                         "(e.g. cron(0 9 * * ? *) or cron(0 9 ? * MON-FRI *))")
    return Cron(
        minutes=tuple(sorted(_field(minutes, 0, 59, "minutes"))),
        hours=tuple(sorted(_field(hours, 0, 23, "hours"))),
        months=_field(month, 1, 12, "month", _MONTHS),
        years=_field(year, YEAR_MIN, YEAR_MAX, "year"),
        day=_day_of_week(dow) if dom == "?" else _day_of_month(dom),
    )


def _parse_rate(body: str) -> Rate:
    match = re.fullmatch(r"\s*(\d+)\s+([a-z]+)\s*", body)
    unit = match.group(2) if match else ""
    if match is None or unit.removesuffix("s") not in _RATE_UNITS:
        raise ValueError("a rate is 'rate(<n> minutes|hours|days)', e.g. rate(5 minutes)")
    value = int(match.group(1))
    if value < 1:
        raise ValueError("a rate's value must be a positive number")
    if (value == 1) != (unit in _RATE_UNITS):
        singular = unit.removesuffix("s")
        raise ValueError(f"write 'rate({value} {singular if value == 1 else singular + 's'})'"
                         ": the unit is singular for 1 and plural otherwise")
    return Rate(value * _RATE_UNITS[unit.removesuffix("s")])


def _parse_at(body: str) -> At:
    try:
        moment = datetime.strptime(body.strip(), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise ValueError("a one-time schedule is 'at(yyyy-mm-ddThh:mm:ss)', "
                         "e.g. at(2026-12-01T09:00:00)") from None
    return At(moment)


def parse_expression(expression: str) -> Schedule:
    """Parse a schedule expression; raises ``ValueError`` saying what is wrong."""
    match = re.fullmatch(r"\s*(rate|cron|at)\((.*)\)\s*", expression)
    if match is None:
        raise ValueError("expected cron(...), rate(...) or at(...), e.g. "
                         "cron(0 9 ? * MON-FRI *) or rate(5 minutes)")
    kind, body = match.groups()
    if kind == "rate":
        return _parse_rate(body)
    if kind == "cron":
        return _parse_cron(body)
    return _parse_at(body)


def validate_timezone(name: str) -> str:
    """An IANA timezone name (``Europe/Berlin``, ``UTC``); raises ``ValueError`` otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}: use an IANA name such as "
                         "'Europe/Berlin', 'America/New_York' or 'UTC'") from None
    return name


def never_fires(schedule: Schedule) -> bool:
    """A cron whose day rule matches no day of its months and years (``30 2``: Feb 30)."""
    return isinstance(schedule, Cron) and _next_cron(schedule, ZoneInfo("UTC"),
                                                     datetime(YEAR_MIN, 1, 1, tzinfo=UTC)
                                                     - timedelta(minutes=1)) is None


def validate_expression(expression: str) -> str:
    schedule = parse_expression(expression)
    if never_fires(schedule):
        raise ValueError("the expression never fires (no day matches its day, month and "
                         "year fields)")
    return expression


# --------------------------------------------------------------------------- fire times


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant a wall-clock time names in ``zone``: None when the clock skips it, the
    first of the two when it happens twice."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return aware.astimezone(UTC)


def _next_cron(cron: Cron, zone: ZoneInfo, after: datetime) -> datetime | None:
    wall_after = after.astimezone(zone).replace(tzinfo=None)
    day = wall_after.date()
    last_year = max(cron.years)
    while day.year <= last_year:
        if day.year not in cron.years:
            day = date(day.year + 1, 1, 1)
            continue
        if day.month not in cron.months:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            continue
        if cron.day.matches(day):
            for hour in cron.hours:
                for minute in cron.minutes:
                    wall = datetime(day.year, day.month, day.day, hour, minute)
                    if wall < wall_after.replace(second=0, microsecond=0):
                        continue
                    moment = _resolve(wall, zone)
                    if moment is not None and moment > after:
                        return moment
        if day == date(YEAR_MAX, 12, 31):
            break
        day += timedelta(days=1)
    return None


def next_fire(expression: str | Schedule, timezone: str, after: datetime, *,
              start: datetime | None = None) -> datetime | None:
    """The first time (UTC) the schedule fires strictly after ``after`` (aware), or None
    when it never fires again. A rate counts from ``start`` (default: the Unix epoch) and
    fires at ``start`` itself."""
    schedule = parse_expression(expression) if isinstance(expression, str) else expression
    if after.tzinfo is None:
        raise ValueError("'after' must be timezone-aware")
    zone = ZoneInfo(timezone)
    if isinstance(schedule, Rate):
        anchor = (start or _EPOCH).astimezone(UTC)
        if after < anchor:
            return anchor
        periods = int((after - anchor).total_seconds() // schedule.seconds) + 1
        return anchor + timedelta(seconds=periods * schedule.seconds)
    if isinstance(schedule, At):
        moment = schedule.moment.replace(tzinfo=zone).astimezone(UTC)
        return moment if moment > after else None
    return _next_cron(schedule, zone, after)


def fire_times(expression: str | Schedule, timezone: str, after: datetime, until: datetime,
               *, start: datetime | None = None) -> Iterator[datetime]:
    """Every fire time in ``(after, until]``, in order."""
    schedule = parse_expression(expression) if isinstance(expression, str) else expression
    moment = next_fire(schedule, timezone, after, start=start)
    while moment is not None and moment <= until:
        yield moment
        moment = next_fire(schedule, timezone, moment, start=start)
