"""Circuit breakers (a node's ``circuitBreaker``): stop calling a dependency that keeps
failing, and let one probe find out when it is back.

States, shared by every execution through a ``GuardStore`` (conditional writes):

- closed: runs go through; each failure is remembered with its time, and
  ``failureThreshold`` failures within ``windowSeconds`` open the breaker;
- open: runs fail at once with ``Sfnflow.CircuitOpen`` (retryable: a node's ``retry`` with
  an interval past the cooldown, or ``onError``, handles it) and the dependency is not
  called, until ``cooldownSeconds`` have passed;
- half-open: the first run after the cooldown wins a conditional write and is the one
  probe; every other run still fails fast. The probe's success closes the breaker, its
  failure opens it again for another cooldown. A probe that never reports (its Lambda
  died) loses its turn after its lease, and the next run probes.

Every error the node's work raises counts as a failure (a dependency answering 4xx to every
call is as unusable as one that is down). Every change of state is kept (time, from, to,
why), the latest ``HISTORY`` of them, for ``GET /admin/breakers``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from functions.errors import NodeError
from functions.store.breakers import BREAKER, GuardStore, Versioned

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
HISTORY = 20  # transitions kept per breaker
MIN_PROBE_LEASE = 30.0  # seconds a probe holds half-open before another run may probe


class CircuitOpen(NodeError):
    """The node's breaker is open: it failed without calling its dependency."""

    error_type = "Sfnflow.CircuitOpen"
    retryable = True


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int
    window_seconds: float
    cooldown_seconds: float


@dataclass(frozen=True)
class Permit:
    """A run let through: ``probe`` when it is half-open's one probe."""

    key: str
    probe: bool


def breaker_key(workflow: str, node: str, node_type: str, parameters: dict[str, Any],
                by: str = "node") -> str:
    """Whose health a breaker tracks: the node (workflow and node name), or with ``by ==
    "host"`` the host of an httpRequest's literal ``url`` (a url computed by an expression
    has no host before it runs: the node's own breaker then)."""
    url = parameters.get("url")
    if by == "host" and node_type == "httpRequest" and isinstance(url, str) \
            and "{{" not in url and "{%" not in url and urlsplit(url).hostname:
        return f"{BREAKER}#host#{urlsplit(url).hostname}"
    return f"{BREAKER}#node#{workflow}#{node}"


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


class CircuitBreakers:
    """Breakers on one store; ``now`` (epoch seconds: shared by every Lambda instance) is
    injectable for tests."""

    def __init__(self, store: GuardStore, *, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now

    def admit(self, key: str, policy: BreakerPolicy, *, workflow: str | None = None,
              node: str | None = None, lease: float = MIN_PROBE_LEASE) -> Permit:
        """Let a run through, or raise ``CircuitOpen``; ``lease``: how long a probe this run
        becomes may take before another run may probe instead."""
        while True:
            current = self.store.read(key)
            state: dict[str, Any] = current.state if current else {"state": CLOSED}
            now = self.now()
            if state["state"] == CLOSED:
                return Permit(key, probe=False)
            if state["state"] == OPEN:
                reopens = float(state["openedAt"]) + policy.cooldown_seconds
                if now < reopens:
                    raise CircuitOpen(
                        f"circuit breaker {key.split('#', 1)[1]!r} is open until "
                        f"{_iso(reopens)} ({state.get('why')}); the dependency was not called")
                nxt = _moved(state, HALF_OPEN, now, "cooldown over: one probe run")
            else:  # half-open: a probe holds it until its lease ends
                if now < float(state.get("probeUntil", 0)):
                    raise CircuitOpen(f"circuit breaker {key.split('#', 1)[1]!r} is half-open "
                                      "and its one probe run is in flight")
                nxt = dict(state)
            nxt["probeUntil"] = now + max(lease, MIN_PROBE_LEASE)
            if self._write(key, nxt, current, workflow, node):
                return Permit(key, probe=True)

    def succeeded(self, permit: Permit, *, workflow: str | None = None,
                  node: str | None = None) -> None:
        """A run let through succeeded: a probe closes the breaker."""
        if not permit.probe:
            return
        while True:
            current = self.store.read(permit.key)
            if current is None or current.state["state"] != HALF_OPEN:
                return
            nxt = _moved(current.state, CLOSED, self.now(), "probe run succeeded")
            nxt["failures"] = []
            nxt.pop("probeUntil", None)
            if self._write(permit.key, nxt, current, workflow, node):
                return

    def released(self, permit: Permit) -> None:
        """A run let through ended without a verdict on the dependency (it did not call it):
        a probe gives its turn back at once instead of holding half-open for its lease."""
        while permit.probe:
            current = self.store.read(permit.key)
            if current is None or current.state["state"] != HALF_OPEN:
                return
            if self.store.write(permit.key, dict(current.state) | {"probeUntil": 0},
                                current, kind=BREAKER, workflow_id=current.workflow_id,
                                node=current.node):
                return

    def failed(self, permit: Permit, policy: BreakerPolicy, error: BaseException, *,
               workflow: str | None = None, node: str | None = None) -> None:
        """A run let through failed: counted while closed (opening at the threshold); a
        probe's failure opens the breaker again."""
        message = f"{getattr(error, 'error_type', type(error).__name__)}: {error}"[:300]
        while True:
            current = self.store.read(permit.key)
            state: dict[str, Any] = current.state if current else {"state": CLOSED}
            now = self.now()
            if state["state"] == HALF_OPEN and permit.probe:
                nxt = _moved(state, OPEN, now, f"probe run failed: {message}")
                nxt["openedAt"] = now
            elif state["state"] == CLOSED:
                failures = [at for at in state.get("failures", [])
                            if at > now - policy.window_seconds] + [now]
                nxt = dict(state) | {"failures": failures}
                if len(failures) >= policy.failure_threshold:
                    nxt = _moved(nxt, OPEN, now, f"{len(failures)} failures within "
                                 f"{policy.window_seconds:g} s, the last {message}")
                    nxt["openedAt"], nxt["failures"] = now, []
            else:
                return  # open already (another run's failure opened it)
            if self._write(permit.key, nxt, current, workflow, node):
                return

    def _write(self, key: str, state: dict[str, Any], current: Versioned | None,
               workflow: str | None, node: str | None) -> bool:
        return self.store.write(key, state, current, kind=BREAKER, workflow_id=workflow,
                                node=node)


def _moved(state: dict[str, Any], to: str, now: float, why: str) -> dict[str, Any]:
    """``state`` moved to ``to``, the transition recorded."""
    transition = {"at": _iso(now), "from": state["state"], "to": to, "why": why}
    history = [*state.get("transitions", []), transition][-HISTORY:]
    return dict(state) | {"state": to, "why": why, "since": _iso(now),
                          "transitions": history}


def describe(key: str, current: Versioned) -> dict[str, Any]:
    """A breaker as the API shows it."""
    state = current.state
    return {"key": key.split("#", 1)[1], "workflowId": current.workflow_id,
            "node": current.node, "state": state.get("state", CLOSED),
            "since": state.get("since"), "why": state.get("why"),
            "recentFailures": len(state.get("failures", [])),
            "transitions": state.get("transitions", [])}
