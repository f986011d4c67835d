"""The local EventBridge Scheduler (local/scheduler.py) firing schedules stored in moto."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from compiler import compile_workflow
from local.cloud import LocalCloud
from local.scheduler import LocalScheduler, execution_name

T0 = datetime(2026, 6, 1, 8, 59, 30, tzinfo=UTC)


def scheduled(name: str, expression: str, timezone: str = "UTC") -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Tick", "type": "scheduleTrigger",
         "parameters": {"expression": expression, "timezone": timezone}},
        {"name": "Work", "type": "noOp"}],
        "connections": [{"from": "Tick", "to": "Work"}]}


def executions(cloud: LocalCloud, workflow: str) -> list[dict[str, Any]]:
    arn = cloud._state_machines[workflow]
    listed = cloud.sfn.list_executions(stateMachineArn=arn)["executions"]
    return sorted(listed, key=lambda e: e["name"])


def test_deploy_creates_the_schedule_and_ticks_fire_it(cloud: LocalCloud) -> None:
    clock = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    clock.begin()  # running when the schedule is created
    cloud.deploy(compile_workflow(scheduled("every-minute", "rate(1 minute)")))
    (listed,) = cloud.scheduler_client.list_schedules()["Schedules"]
    schedule = cloud.scheduler_client.get_schedule(Name=listed["Name"])
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    # The trigger starter names each fire's execution (tests/functions/services/test_triggers)
    assert schedule["Target"]["Arn"].endswith(":function:sfnflow-triggers")

    assert len(clock.tick(T0)) == 1  # a rate fires at its creation (first seen)
    assert clock.tick(T0 + timedelta(seconds=30)) == []
    assert len(clock.tick(T0 + timedelta(seconds=60))) == 1
    assert clock.tick(T0 + timedelta(seconds=60)) == []
    assert len(clock.tick(T0 + timedelta(minutes=3))) == 2  # catches up what it missed
    fired = executions(cloud, "every-minute")
    assert len(fired) == 4
    first = cloud.sfn.describe_execution(executionArn=fired[0]["executionArn"])
    envelope = json.loads(first["input"])
    assert envelope == {"items": [{"scheduledAt": "2026-06-01T08:59:30Z", "timezone": "UTC"}],
                        "triggeredBy": "Tick", "mode": "trigger"}


def test_a_fire_is_never_doubled(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(scheduled("hourly", "cron(0 * * * ? *)")))
    one = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    two = LocalScheduler(cloud.scheduler_client, cloud.sfn)  # e.g. a restarted server
    for clock in (one, two):
        clock.tick(T0)
        assert clock.tick(T0 + timedelta(hours=1)) == [
            execution_name(cloud.scheduler_client.list_schedules()["Schedules"][0]["Arn"],
                           datetime(2026, 6, 1, 9, tzinfo=UTC))]
    assert len(executions(cloud, "hourly")) == 1
    assert executions(cloud, "hourly")[0]["name"].endswith("-20260601T090000Z")


def test_a_restarted_scheduler_fires_nothing_extra(cloud: LocalCloud) -> None:
    """A schedule that was there before the scheduler began (a restarted server's, replayed
    from its state folder) is not fired at first sight: every restart would run each rate
    schedule once more. Its next fire is one period after the scheduler first saw it."""
    running = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    running.begin()
    cloud.deploy(compile_workflow(scheduled("hourly-rate", "rate(1 hour)")))
    assert len(running.tick(T0)) == 1  # created while it ran: fires at its creation

    restarted = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    later = T0 + timedelta(minutes=10)
    assert restarted.tick(later) == []
    assert restarted.tick(later + timedelta(minutes=59)) == []
    (fired,) = restarted.tick(later + timedelta(hours=1))
    assert fired.endswith("-20260601T100930Z")
    assert len(executions(cloud, "hourly-rate")) == 2


def test_cron_in_a_timezone_state_and_end_date(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(scheduled("berlin", "cron(0 11 * * ? *)", "Europe/Berlin")))
    (listed,) = cloud.scheduler_client.list_schedules()["Schedules"]
    clock = LocalScheduler(cloud.scheduler_client, cloud.sfn)
    clock.tick(T0)  # 10:59:30 in Berlin (CEST)
    assert clock.tick(T0 + timedelta(seconds=29)) == []
    assert len(clock.tick(T0 + timedelta(seconds=30))) == 1  # 11:00 CEST = 09:00 UTC
    started = cloud.sfn.describe_execution(
        executionArn=executions(cloud, "berlin")[0]["executionArn"])
    item = json.loads(started["input"])["items"][0]
    assert item == {"scheduledAt": "2026-06-01T09:00:00Z", "timezone": "Europe/Berlin"}

    schedule = cloud.scheduler_client.get_schedule(Name=listed["Name"])
    update = {key: schedule[key] for key in ("Name", "GroupName", "ScheduleExpression",
                                             "ScheduleExpressionTimezone", "Target",
                                             "FlexibleTimeWindow")}
    cloud.scheduler_client.update_schedule(**update, State="DISABLED")
    assert clock.tick(T0 + timedelta(days=1, hours=1)) == []  # June 2: disabled
    cloud.scheduler_client.update_schedule(
        **update, State="ENABLED", EndDate=datetime(2026, 6, 3, 12, tzinfo=UTC))
    fired = clock.tick(T0 + timedelta(days=5))  # June 3 only: it ends before June 4
    assert [name[-16:] for name in fired] == ["20260603T090000Z"]
    assert len(executions(cloud, "berlin")) == 2


def test_a_schedule_fires_twice_on_the_virtual_clock(cloud: LocalCloud) -> None:
    """time_scale 0.01: rate(1 minute) fires every 0.6 s of real time."""
    cloud.deploy(compile_workflow(scheduled("fast", "rate(1 minute)")))
    cloud.start_event_threads()
    try:
        deadline = time.monotonic() + 10
        while len(executions(cloud, "fast")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        fired = executions(cloud, "fast")
        assert len(fired) >= 2
        # The status-change thread records them in the run data.
        while time.monotonic() < deadline and any(
                (r := cloud.repository.get_execution(e["name"])) is None
                or r.status != "SUCCEEDED" for e in fired[:2]):
            time.sleep(0.05)
    finally:
        cloud.stop_event_threads()
    for listed in fired[:2]:
        record = cloud.repository.get_execution(listed["name"])
        assert record is not None and record.status == "SUCCEEDED"
        assert record.mode == "trigger" and record.workflow_id == "fast"
    assert cloud.scheduler.now() > datetime.now(UTC) + timedelta(seconds=60)


def test_deactivating_removes_the_schedule(cloud: LocalCloud) -> None:
    compiled = compile_workflow(scheduled("short-lived", "rate(5 minutes)"))
    cloud.deploy(compiled)
    assert len(cloud.scheduler_client.list_schedules()["Schedules"]) == 1
    cloud.triggers.deactivate(compiled.manifest)
    cloud.triggers.deactivate(compiled.manifest)  # idempotent
    assert cloud.scheduler_client.list_schedules()["Schedules"] == []


def test_the_clock_ticks_once_a_virtual_second_within_real_bounds() -> None:
    from local.scheduler import MAX_TICK_SECONDS, MIN_TICK_SECONDS, tick_interval

    assert tick_interval(1.0) == MAX_TICK_SECONDS == 1.0  # idle serve: once a second
    assert tick_interval(0.2) == 0.2
    assert tick_interval(0.01) == MIN_TICK_SECONDS  # tests: as often as before
