"""A local EventBridge Scheduler: fires the schedules stored in moto (which never fires them).

``LocalScheduler.tick(now)`` reads every schedule through the ``scheduler`` API
(ListSchedules + GetSchedule), and fires each one due in ``(its last tick, now]`` to its
target — a state machine (StartExecution) or a Lambda handler registered in-process —
with the target's ``Input`` and ``<aws.scheduler.scheduled-time>``,
``<aws.scheduler.execution-id>``, ``<aws.scheduler.schedule-arn>`` and
``<aws.scheduler.attempt-number>`` filled in. It honours State, the timezone, StartDate
and EndDate, and ActionAfterCompletion DELETE for one-time schedules.

A fire is never doubled: the execution name is derived from the schedule and the fire
time, so a repeated StartExecution is refused (``ExecutionAlreadyExists``) and ignored.
The schedules sfnflow creates target the trigger starter (``functions.services.triggers``),
which derives the same name (``scheduled_execution_name``) from the schedule's ARN and
``<aws.scheduler.scheduled-time>``: deployed and local fires are named alike.

Time: ``tick`` takes the time explicitly (tests drive it). The background thread
(``start``/``stop``, for ``sfnflow serve``) ticks on a virtual clock that runs
``1 / time_scale`` times faster than real time from the moment the scheduler was made:
with ``time_scale=0.01``, ``rate(1 minute)`` fires every 0.6 s. A schedule is first
considered when the scheduler first sees it, so nothing due before is "caught up".

Rate schedules are timed from their creation, as EventBridge Scheduler times them: a rate
without StartDate first fires when it is created, then once a period (with StartDate: at
StartDate, then once a period). A schedule created while this scheduler runs (its
``CreationDate`` on or after ``begin``: the first tick or ``start``) fires when first seen,
which is its creation to within a tick. One that was already there when it began was made
by an earlier server and fired at its creation then: a restarted ``sfnflow serve`` finds
its schedules replayed from the state folder (``local.persistence``), and firing them at
first sight would run every rate schedule once more per restart. It is timed from the
moment this scheduler first saw it instead: its next fire is one period later. (Its
original creation time is not kept: the replay creates it anew, so the period restarts
with the server, as if it were created then, without the fire a creation makes.)
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from compiler.schedules import At, next_fire, parse_expression
from functions.services.triggers import scheduled_execution_name as execution_name
from local import moto_patches
from local.periodic import Periodic

logger = logging.getLogger("sfnflow.local.scheduler")

MAX_FIRES_PER_TICK = 100  # a clock jump far ahead fires at most this many per schedule


@dataclass
class _Seen:
    expression: str
    timezone: str
    first_seen: datetime
    last_tick: datetime


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The clock ticks once a virtual second (schedules fire on whole seconds at best: at()
# expressions; rate and cron on minutes), within these real bounds. A tick lists every
# schedule; every 50 ms at time scale 1 that kept an idle `sfnflow serve` busy (issue 11).
MIN_TICK_SECONDS = 0.05
MAX_TICK_SECONDS = 1.0


def tick_interval(time_scale: float) -> float:
    """Real seconds between ticks: one virtual second, within the bounds above."""
    return min(MAX_TICK_SECONDS, max(MIN_TICK_SECONDS, time_scale))


class LocalScheduler:
    def __init__(self, scheduler: Any, sfn: Any, *, time_scale: float = 1.0,
                 poll_seconds: float | None = None) -> None:
        self.scheduler = scheduler
        self.sfn = sfn
        self.time_scale = time_scale
        if poll_seconds is None:
            poll_seconds = tick_interval(time_scale)
        self.poll_seconds = poll_seconds
        self._origin = datetime.now(UTC)
        self._origin_monotonic = time.monotonic()
        self._seen: dict[str, _Seen] = {}
        self._began: datetime | None = None  # real time; see ``begin``
        self._lock = threading.Lock()
        self._ticker = Periodic(self.tick, poll_seconds, "sfnflow-scheduler", at_once=True)

    def now(self) -> datetime:
        """The virtual clock: real time since creation, divided by the time scale."""
        elapsed = (time.monotonic() - self._origin_monotonic) / self.time_scale
        return self._origin + timedelta(seconds=elapsed)

    def begin(self) -> None:
        """Mark the schedules there now as made before this scheduler (by an earlier
        server): they are not fired at first sight (see the module's docstring). The first
        tick (or ``start``) calls it; later calls change nothing."""
        with self._lock:
            if self._began is None:
                self._began = datetime.now(UTC)

    def _created_since_begin(self, schedule: dict[str, Any]) -> bool:
        created = _aware(schedule.get("CreationDate"))
        return created is None or self._began is None or created >= self._began

    # ------------------------------------------------------------------ reading

    def _schedules(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.scheduler.get_paginator("list_schedules").paginate():
            for listed in page["Schedules"]:
                found.append(self.scheduler.get_schedule(
                    Name=listed["Name"], GroupName=listed.get("GroupName") or "default"))
        return found

    # ------------------------------------------------------------------ firing

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire every schedule due by ``now`` (default: the virtual clock); returns the
        names of the executions started (or handlers invoked, by schedule ARN)."""
        now = now or self.now()
        started: list[str] = []
        self.begin()
        with self._lock:
            schedules = self._schedules()
            live = {schedule["Arn"] for schedule in schedules}
            for arn in set(self._seen) - live:
                del self._seen[arn]
            for schedule in schedules:
                started.extend(self._tick_one(schedule, now))
        return started

    def _tick_one(self, schedule: dict[str, Any], now: datetime) -> list[str]:
        arn = schedule["Arn"]
        expression = schedule["ScheduleExpression"]
        timezone = schedule.get("ScheduleExpressionTimezone") or "UTC"
        seen = self._seen.get(arn)
        if seen is None or (seen.expression, seen.timezone) != (expression, timezone):
            # New (or changed): the window starts now; a rate's first fire is now too,
            # unless the schedule was there before this scheduler began (a restart).
            fires_now = seen is not None or self._created_since_begin(schedule)
            seen = _Seen(expression, timezone, now,
                         now - timedelta(microseconds=1) if fires_now else now)
            self._seen[arn] = seen
        window_start, seen.last_tick = seen.last_tick, now
        if schedule.get("State", "ENABLED") != "ENABLED":
            return []
        try:
            parsed = parse_expression(expression)
        except ValueError as exc:
            logger.warning("schedule %s: %s", arn, exc)
            return []
        start, end = _aware(schedule.get("StartDate")), _aware(schedule.get("EndDate"))
        anchor = start or seen.first_seen
        after = max(window_start, anchor - timedelta(microseconds=1))
        until = min(now, end) if end is not None else now
        started: list[str] = []
        moment = next_fire(parsed, timezone, after, start=anchor)
        while moment is not None and moment <= until and len(started) < MAX_FIRES_PER_TICK:
            started.append(self._fire(schedule, moment))
            moment = next_fire(parsed, timezone, moment, start=anchor)
        if started and isinstance(parsed, At) and \
                schedule.get("ActionAfterCompletion") == "DELETE":
            self.scheduler.delete_schedule(Name=schedule["Name"],
                                           GroupName=schedule.get("GroupName") or "default")
        return started

    def _fire(self, schedule: dict[str, Any], moment: datetime) -> str:
        target = schedule["Target"]
        name = execution_name(schedule["Arn"], moment)
        text = str(target.get("Input") or "{}")
        for key, value in {
            "aws.scheduler.scheduled-time": _iso(moment),
            "aws.scheduler.execution-id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "aws.scheduler.schedule-arn": schedule["Arn"],
            "aws.scheduler.attempt-number": "1",
        }.items():
            text = text.replace(f"<{key}>", value)
        arn = str(target["Arn"])
        if ":stateMachine:" in arn:
            try:
                self.sfn.start_execution(stateMachineArn=arn, name=name, input=text)
            except self.sfn.exceptions.ExecutionAlreadyExists:
                pass
            except Exception:  # noqa: BLE001 - Scheduler retries, then drops (or a DLQ)
                logger.exception("schedule %s could not start %s", schedule["Arn"], arn)
        elif not moto_patches.invoke_registered(arn, json.loads(text)):
            logger.warning("schedule %s: target %s is not supported locally",
                           schedule["Arn"], arn)
        return name

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        self.begin()
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()


__all__ = ["LocalScheduler", "execution_name"]
