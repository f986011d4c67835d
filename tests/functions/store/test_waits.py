"""WaitRepository (``functions.store.waits``): a wait paused again keeps its first token,
stored so that a wait paused once looks exactly as before; a held wait keeps it too."""

from __future__ import annotations

from functions.store.models import WaitModel
from functions.store.waits import RESUMING, TIMED_OUT, WAITING, Wait, WaitRepository
from local.cloud import LocalCloud


def _pause(waits: WaitRepository, token: str) -> Wait:
    wait = Wait(execution_id="e1", wait_id="hold-0-abc", workflow_id="wf", node="Hold",
                mode="webhook", token=token)
    assert waits.save(wait)
    found = waits.get("e1", "hold-0-abc")
    assert found is not None
    return found


def test_a_wait_paused_again_keeps_its_first_token(cloud: LocalCloud) -> None:
    waits = WaitRepository()
    once = _pause(waits, "t1")
    assert (once.token, once.first_token, once.signing_token) == ("t1", None, "t1")
    assert WaitModel.get("e1", "hold-0-abc").token == "t1"  # the record of one pause: as before

    again = _pause(waits, "t2")
    assert (again.token, again.signing_token) == ("t2", "t1")
    assert waits.decide(again, TIMED_OUT)  # conditions read the stored form back
    thrice = _pause(waits, "t3")  # a timed-out wait was never answered: same question
    assert (thrice.token, thrice.signing_token, thrice.status) == ("t3", "t1", WAITING)

    assert not waits.decide(again, "resumed")  # read before the last pause: loses
    assert waits.decide(thrice, "resumed")
    decided = _pause(waits, "t4")  # answered, then paused again: a new question
    assert (decided.token, decided.signing_token) == ("t4", "t4")


def test_a_held_wait_keeps_its_first_token_through_its_next_pause(cloud: LocalCloud) -> None:
    waits = WaitRepository()
    paused = _pause(waits, "t1")
    assert waits.hold(paused)
    assert not waits.hold(paused)  # read before the hold: left alone
    held = waits.get("e1", "hold-0-abc")
    assert held is not None and (held.token, held.signing_token) == (RESUMING, "t1")
    again = _pause(waits, "t2")  # the resumed execution pauses again
    assert (again.token, again.signing_token, again.status) == ("t2", "t1", WAITING)
