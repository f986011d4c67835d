"""EventBridge Scheduler expressions: parsing, validation and fire times (compiler/schedules.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from compiler.schedules import (
    fire_times,
    next_fire,
    validate_expression,
    validate_timezone,
)

NY = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def fires(expression: str, after: datetime, count: int, zone: str = "UTC",
          start: datetime | None = None) -> list[datetime]:
    found: list[datetime] = []
    moment: datetime | None = after
    while len(found) < count:
        assert moment is not None
        moment = next_fire(expression, zone, moment, start=start)
        if moment is None:
            break
        found.append(moment)
    return found


def in_zone(moments: list[datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") for m in moments]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)",
    "rate(7 days)", "cron(0 9 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(*/5 8-17 ? * 2-6 *)",
    "cron(0 12 L * ? *)", "cron(0 12 L-2 * ? *)", "cron(0 12 LW * ? *)", "cron(0 12 15W * ? *)",
    "cron(0 10 ? * 6L *)", "cron(0 10 ? * FRIL *)", "cron(0 10 ? * 3#2 *)", "cron(0 10 ? * L *)",
    "cron(0 8 1 JAN,JUL ? 2027-2030)", "cron(0 0 1 1 ? 2030/5)", "cron(15,45 * * * ? *)",
    "at(2026-12-01T09:00:00)",
])
def test_valid_expressions(expression: str) -> None:
    assert validate_expression(expression) == expression


@pytest.mark.parametrize(("expression", "message"), [
    ("every 5 minutes", "expected cron(...), rate(...) or at(...)"),
    ("rate(0 minutes)", "positive"),
    ("rate(5 seconds)", "rate(<n> minutes|hours|days)"),
    ("rate(1 minutes)", "rate(1 minute)"),
    ("rate(5 minute)", "rate(5 minutes)"),
    ("cron(0 9 * * *)", "6 fields"),
    ("cron(0 9 * * * *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 9 ? * ? *)", "exactly one of day-of-month and day-of-week"),
    ("cron(60 9 * * ? *)", "minutes: 60 is outside 0-59"),
    ("cron(0 24 * * ? *)", "hours: 24 is outside 0-23"),
    ("cron(0 9 32 * ? *)", "day-of-month: 32 is outside 1-31"),
    ("cron(0 9 ? * 0 *)", "day-of-week: 0 is outside 1-7"),
    ("cron(0 9 ? * MON-XYZ *)", "day-of-week: 'XYZ' is not a number or one of SUN-SAT"),
    ("cron(0 9 ? FOO * *)", "month: 'FOO'"),
    ("cron(0 9 * * ? 1969)", "year: 1969 is outside 1970-2199"),
    ("cron(0 9 ? * 3#1,6#3 *)", "one expression only"),
    ("cron(0 9 ? * 3#6 *)", "must be 1-5"),
    ("cron(0 9 L,15 * ? *)", "stand alone"),
    ("cron(0/0 9 * * ? *)", "positive number"),
    ("cron(0 17-9 * * ? *)", "runs backwards"),
    ("cron(0 0 30 2 ? *)", "never fires"),
    ("at(2026-12-01 09:00)", "at(yyyy-mm-ddThh:mm:ss)"),
])
def test_invalid_expressions_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        validate_expression(expression)
    assert message in str(caught.value)


def test_timezones_are_iana_names() -> None:
    assert validate_timezone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "EST5EDT-ish", "", "../etc/passwd"):
        with pytest.raises(ValueError, match="unknown timezone"):
            validate_timezone(bad)


def schedule_workflow(parameters: dict[str, object]) -> dict[str, object]:
    return {"name": "nightly", "nodes": [
        {"name": "Every night", "type": "scheduleTrigger", "parameters": parameters},
        {"name": "Work", "type": "noOp"}],
        "connections": [{"from": "Every night", "to": "Work"}]}


def test_bad_cron_and_timezone_are_problems_naming_node_and_field() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(schedule_workflow({"expression": "cron(0 25 * * ? *)",
                                            "timezone": "Europe/Atlantis"}))
    problems = {(p.node, p.field): p.message for p in caught.value.problems}
    assert "hours: 25 is outside 0-23" in problems[("Every night", "parameters.expression")]
    assert "unknown timezone" in problems[("Every night", "parameters.timezone")]


def test_valid_schedule_compiles() -> None:
    compiled = compile_workflow(schedule_workflow({"expression": "cron(0 9 ? * MON-FRI *)",
                                                   "timezone": "Europe/Berlin"}))
    assert compiled.manifest["triggers"][0]["parameters"] == {
        "expression": "cron(0 9 ? * MON-FRI *)", "timezone": "Europe/Berlin"}


# --------------------------------------------------------------------------- fire times


def test_rate_counts_from_its_start_and_fires_at_it() -> None:
    start = utc(2026, 5, 1, 10, 0, 30)
    assert fires("rate(5 minutes)", start - timedelta(seconds=1), 3, start=start) == [
        start, start + timedelta(minutes=5), start + timedelta(minutes=10)]
    assert next_fire("rate(1 hour)", "UTC", utc(2026, 5, 1, 10, 30)) == utc(2026, 5, 1, 11)


def test_rate_days_are_24_hours_across_dst() -> None:
    start = local(NY, 2026, 3, 7, 9, 0)
    days = fires("rate(1 day)", start - timedelta(seconds=1), 3, zone=NY, start=start)
    assert in_zone(days, NY) == ["2026-03-07 09:00 EST", "2026-03-08 10:00 EDT",
                                 "2026-03-09 10:00 EDT"]


def test_cron_weekdays_use_aws_numbering() -> None:
    # 2026-06-01 is a Monday. AWS 2-6 = MON-FRI; 1 = SUN.
    found = fires("cron(0 9 ? * 2-6 *)", utc(2026, 5, 31), 6)
    assert [m.strftime("%a %d") for m in found] == [
        "Mon 01", "Tue 02", "Wed 03", "Thu 04", "Fri 05", "Mon 08"]
    assert fires("cron(0 9 ? * 1 *)", utc(2026, 6, 1), 1)[0].strftime("%a %d") == "Sun 07"
    assert fires("cron(0 9 ? * SAT,SUN *)", utc(2026, 6, 1), 2) == [
        utc(2026, 6, 6, 9), utc(2026, 6, 7, 9)]


def test_cron_in_a_timezone() -> None:
    found = fires("cron(30 8 * * ? *)", utc(2026, 1, 10), 1, zone="Asia/Kolkata")
    assert found == [utc(2026, 1, 10, 3, 0)]  # 08:30 IST = 03:00 UTC


def test_cron_last_day_forms() -> None:
    assert fires("cron(0 0 L * ? *)", utc(2026, 1, 15), 3) == [
        utc(2026, 1, 31), utc(2026, 2, 28), utc(2026, 3, 31)]
    assert fires("cron(0 0 L * ? *)", utc(2028, 2, 1), 1) == [utc(2028, 2, 29)]  # leap
    assert fires("cron(0 0 L-2 * ? *)", utc(2026, 2, 1), 2) == [
        utc(2026, 2, 26), utc(2026, 3, 29)]
    # Last weekday: May 31 2026 is a Sunday -> Friday 29; July 31 2026 is a Friday.
    assert fires("cron(0 0 LW * ? *)", utc(2026, 5, 1), 3) == [
        utc(2026, 5, 29), utc(2026, 6, 30), utc(2026, 7, 31)]


def test_cron_nearest_weekday_stays_in_the_month() -> None:
    # 2026-08-01 is a Saturday: 1W is Monday the 3rd, not Friday July 31.
    assert fires("cron(0 0 1W * ? *)", utc(2026, 7, 15), 1) == [utc(2026, 8, 3)]
    # 2026-11-15 is a Sunday: 15W is Monday the 16th; 2026-08-15 a Saturday: Friday 14th.
    assert fires("cron(0 0 15W * ? *)", utc(2026, 11, 1), 1) == [utc(2026, 11, 16)]
    assert fires("cron(0 0 15W * ? *)", utc(2026, 8, 1), 1) == [utc(2026, 8, 14)]
    # 31W in a 30-day month reads day 30: 2026-09-30 is a Wednesday.
    assert fires("cron(0 0 31W * ? *)", utc(2026, 9, 1), 1) == [utc(2026, 9, 30)]


def test_cron_nth_and_last_weekday_of_month() -> None:
    # 3#2: the second Tuesday. June 2026: Tue 2, 9 -> the 9th.
    assert fires("cron(0 12 ? * 3#2 *)", utc(2026, 6, 1), 2) == [
        utc(2026, 6, 9, 12), utc(2026, 7, 14, 12)]
    # 6L: the last Friday. June 2026 -> 26th; July -> 31st.
    assert fires("cron(0 12 ? * 6L *)", utc(2026, 6, 1), 2) == [
        utc(2026, 6, 26, 12), utc(2026, 7, 31, 12)]
    # 2#5: a fifth Monday exists only in some months (June 2026 has 1,8,15,22,29).
    assert fires("cron(0 12 ? * MON#5 *)", utc(2026, 6, 1), 2) == [
        utc(2026, 6, 29, 12), utc(2026, 8, 31, 12)]


def test_cron_ranges_steps_and_lists() -> None:
    found = fires("cron(10/20 8-9 * * ? *)", utc(2026, 1, 1), 7)
    assert [m.strftime("%H:%M") for m in found] == [
        "08:10", "08:30", "08:50", "09:10", "09:30", "09:50", "08:10"]
    found = fires("cron(0 0 1 JAN-MAR/2,NOV ? *)", utc(2026, 1, 1), 4)
    assert [m.strftime("%Y-%m") for m in found] == ["2026-03", "2026-11", "2027-01", "2027-03"]


def test_cron_years_and_the_end_of_a_schedule() -> None:
    assert fires("cron(0 0 1 1 ? 2030/5)", utc(2026, 1, 1), 2) == [
        utc(2030, 1, 1), utc(2035, 1, 1)]
    assert next_fire("cron(0 0 1 1 ? 2027)", "UTC", utc(2027, 1, 1)) is None
    assert next_fire("cron(0 0 1 1 ? 2199)", "UTC", utc(2026, 6, 1)) == utc(2199, 1, 1)


def test_dst_spring_forward_skips_the_missing_time() -> None:
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist that day.
    found = fires("cron(30 2 * * ? *)", local(NY, 2026, 3, 7, 12), 3, zone=NY)
    assert in_zone(found, NY) == ["2026-03-09 02:30 EDT", "2026-03-10 02:30 EDT",
                                  "2026-03-11 02:30 EDT"]
    hourly = fires("cron(0 * * * ? *)", local(NY, 2026, 3, 8, 0, 30), 3, zone=NY)
    assert in_zone(hourly, NY) == ["2026-03-08 01:00 EST", "2026-03-08 03:00 EDT",
                                   "2026-03-08 04:00 EDT"]


def test_dst_fall_back_fires_once() -> None:
    # New York, 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:xx happens twice.
    found = fires("cron(30 1 * * ? *)", local(NY, 2026, 10, 31, 12), 2, zone=NY)
    assert in_zone(found, NY) == ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]
    every_half_hour = fires("cron(0/30 0-2 * * ? *)", local(NY, 2026, 11, 1, 0, 10), 5, zone=NY)
    assert in_zone(every_half_hour, NY) == [
        "2026-11-01 00:30 EDT", "2026-11-01 01:00 EDT", "2026-11-01 01:30 EDT",
        "2026-11-01 02:00 EST", "2026-11-01 02:30 EST"]
    # Asked from inside the repeated hour, nothing of it fires again.
    second_pass = datetime(2026, 11, 1, 1, 10, tzinfo=ZoneInfo(NY), fold=1)
    assert in_zone([next_fire("cron(0/30 0-2 * * ? *)", NY, second_pass) or second_pass],
                   NY) == ["2026-11-01 02:00 EST"]


def test_at_fires_once_in_its_timezone() -> None:
    expression = "at(2026-12-01T09:00:00)"
    assert next_fire(expression, "Europe/Berlin", utc(2026, 1, 1)) == utc(2026, 12, 1, 8)
    assert next_fire(expression, "Europe/Berlin", utc(2026, 12, 1, 8)) is None


def test_fire_times_lists_a_window() -> None:
    window = list(fire_times("cron(0 * * * ? *)", "UTC", utc(2026, 1, 1, 0), utc(2026, 1, 1, 3)))
    assert window == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), utc(2026, 1, 1, 3)]


def test_after_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire("rate(1 minute)", "UTC", datetime(2026, 1, 1))


def _random_field(rng: random.Random, low: int, high: int) -> str:
    kind = rng.choice(["*", "value", "range", "step", "list"])
    if kind == "value":
        return str(rng.randint(low, high))
    if kind == "range":
        first = rng.randint(low, high - 1)  # croniter misreads "6-6"
        return f"{first}-{rng.randint(first + 1, high)}"
    if kind == "step":
        return f"{rng.randint(low, high)}/{rng.randint(1, max(1, (high - low) // 2))}"
    if kind == "list":
        return ",".join(str(v) for v in sorted(rng.sample(range(low, high + 1), 3)))
    return "*"


def test_plain_expressions_agree_with_croniter() -> None:
    """croniter is a test oracle for what both support: UTC, no L/W/#, no years."""
    croniter = pytest.importorskip("croniter").croniter
    rng = random.Random(4)
    for _ in range(150):
        minutes, hours = _random_field(rng, 0, 59), _random_field(rng, 0, 23)
        month = _random_field(rng, 1, 12)
        if rng.random() < 0.5:
            dom, dow = _random_field(rng, 1, 28), "?"
            classic = f"{minutes} {hours} {dom} {month} *"
        else:
            dom, dow = "?", _random_field(rng, 1, 7)
            weekdays = sorted({(int(d) - 1) for d in _expand(dow, 1, 7)})
            classic = f"{minutes} {hours} * {month} {','.join(map(str, weekdays))}"
        expression = f"cron({minutes} {hours} {dom} {month} {dow} *)"
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randint(0, 500_000))
        oracle = croniter(classic, start)
        expected = [oracle.get_next(datetime) for _ in range(5)]
        assert fires(expression, start, 5) == expected, (expression, classic)


def _expand(field: str, low: int, high: int) -> list[int]:
    from compiler.schedules import _field

    return sorted(_field(field, low, high, "test"))
