"""RendezvousService on moto's DynamoDB: whoever completes a meeting releases the waiting
node exactly once, with every producer's outputs, whatever the order of arrival.

The Step Functions side (the token really resuming a parked Task) runs end to end in
``tests/examples/test_flows.py``; here a recording client stands in for it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.errors import ParameterError
from functions.services.rendezvous import RendezvousService
from local.cloud import LocalCloud


class RecordingSfn:
    def __init__(self, gone: bool = False) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.gone = gone

    def send_task_success(self, taskToken: str, output: str) -> None:  # noqa: N803 - boto3
        if self.gone:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "gone"}},
                              "SendTaskSuccess")
        self.sent.append((taskToken, json.loads(output)))


def _signal(execution: str, slot: str, output: Any, needs: int = 2) -> dict[str, Any]:
    return {"execution": execution, "signal": {
        "node": f"producer {slot}", "output": output,
        "targets": [{"node": "consumer", "slot": slot, "needs": needs}]}}


def _await(execution: str, token: str, needs: int = 2) -> dict[str, Any]:
    return {"execution": execution, "await": {"node": "consumer", "needs": needs,
                                              "taskToken": token}}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_last_arrival_releases_the_token_once(cloud: LocalCloud,
                                                  order: tuple[int, ...]) -> None:
    sfn = RecordingSfn()
    service = RendezvousService(sfn)
    key = f"exec#consumer#{''.join(map(str, order))}"
    events = [_signal(key, "p0", {"ports": [{"count": 1, "items": [{"a": 1}]}]}),
              _signal(key, "p1", {"ports": [{"count": 0, "items": []}]}),
              _await(key, "token-1")]
    for index in order:
        service.handle(events[index])
    assert sfn.sent == [("token-1", {"p0": {"ports": [{"count": 1, "items": [{"a": 1}]}]},
                                     "p1": {"ports": [{"count": 0, "items": []}]}})]


def test_a_runner_node_signals_its_own_result(cloud: LocalCloud) -> None:
    sfn = RecordingSfn()
    service = RendezvousService(sfn)
    service.handle(_await("k-own", "token-2", needs=1))
    event = _signal("k-own", "p0", None, needs=1)
    service.handle(event, result={"ports": [{"count": 1, "ref": "s3://bucket/key"}]})
    assert sfn.sent == [("token-2", {"p0": {"ports": [{"count": 1, "ref": "s3://bucket/key"}]}})]


def test_a_retried_signal_changes_nothing(cloud: LocalCloud) -> None:
    """A Lambda retry repeats a signal: the first outputs count, and a token already sent
    back (the second release fails with TaskTimedOut) is not an error."""
    sfn = RecordingSfn()
    service = RendezvousService(sfn)
    service.handle(_signal("k-retry", "p0", {"first": True}, needs=1))
    service.handle(_await("k-retry", "token-3", needs=1))
    service.handle(_signal("k-retry", "p0", {"first": False}, needs=1))
    assert sfn.sent == [("token-3", {"p0": {"first": True}}),
                        ("token-3", {"p0": {"first": True}})]
    RendezvousService(RecordingSfn(gone=True)).handle(
        _signal("k-retry", "p0", {"first": False}, needs=1))


def test_nobody_is_released_before_every_producer_signals(cloud: LocalCloud) -> None:
    sfn = RecordingSfn()
    service = RendezvousService(sfn)
    service.handle(_await("k-half", "token-4", needs=3))
    service.handle(_signal("k-half", "p2", {}, needs=3))
    service.handle(_signal("k-half", "p0", {}, needs=3))
    assert sfn.sent == []


def test_a_malformed_event_is_a_parameter_error(cloud: LocalCloud) -> None:
    with pytest.raises(ParameterError, match="malformed rendezvous event"):
        RendezvousService(RecordingSfn()).handle({"await": {"key": "k"}})
