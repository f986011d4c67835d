"""Merge ``waitFor: N``: the first N input branches to finish win, the others are cancelled.

Parallel branches share no state, so the branches count their finishes in DynamoDB, with
Step Functions' optimized integration (no Lambda):

* A branch that finishes with items ends in ``#finished <branch>``, a
  ``dynamodb:updateItem`` Task on the merge's quorum item (key: execution ARN, merge node,
  loop iteration). In one atomic update it stores the branch's outputs (``b<index>``, the
  branch's exported variables as JSON text) and appends its index to ``finishers``;
  ``ReturnValues: ALL_NEW`` hands back the item as it is right after this finish.
* ``#quorum? <branch>`` (Choice): if ``finishers`` now holds N entries, this branch is the
  N-th to finish: ``#reached <branch>`` (Fail) fails the Parallel, which cancels the
  others. Otherwise ``#counted <branch>`` (Succeed) ends the branch.
* The error is ``Sfnflow.QuorumReached`` with the item as ``Cause`` when the item's JSON
  fits the cause limit (32,768 characters; 32,000 used). The Parallel's Catch parses it
  and assigns every winner's outputs (losers get empty ports) before going to the Merge:
  no extra state. A larger item fails with ``Sfnflow.QuorumReachedStored`` instead, whose
  Catch goes to ``#winners <merge>``, a consistent ``dynamodb:getItem`` of the same item.
  Either way the winners are the first N entries of ``finishers``: a branch finishing
  between the N-th update and the cancellation is ignored.

Branches skipped by a guard (no items) never finish, as in a waitFor-any race. When fewer
than N branches finish with items, the Parallel ends normally and the Merge gets every
finished branch's items. Each finish costs three state transitions (update, Choice,
Fail/Succeed) and one DynamoDB write. The item expires through DynamoDB TTL
(``expiresAt``, a week after the first finish). The table's name is the deploy-time
substitution ``${MergeQuorumTable}`` (listed in the manifest when used).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata, literal
from compiler.limits import CAUSE_BUDGET

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.passes.emit import Emitter

QUORUM_TABLE = "${MergeQuorumTable}"  # a DefinitionSubstitutions placeholder
QUORUM_TABLE_SUBSTITUTION = QUORUM_TABLE[2:-1]
QUORUM_REACHED = "Sfnflow.QuorumReached"
QUORUM_REACHED_STORED = "Sfnflow.QuorumReachedStored"
CAUSE_LIMIT = CAUSE_BUDGET  # what a cause carries (compiler.limits: AWS keeps 32,768)
EXPIRES_AFTER_SECONDS = 7 * 24 * 3600
UPDATE_ITEM = asl.integration("dynamodb:updateItem")
GET_ITEM = asl.integration("dynamodb:getItem")


def quorum_of(graph: Graph, merge: int) -> int | None:
    """N of a ``waitFor: N`` merge (None for all / any)."""
    wait_for = getattr(graph.params[merge], "waitFor", "all")
    return wait_for if isinstance(wait_for, int) and not isinstance(wait_for, bool) else None


def uses_quorums(graph: Graph) -> bool:
    """Whether the quorum table is used: by waitFor-N merges, and by waitFor-any races
    (whose winner may be too big for an error's cause)."""
    return any(graph.type_of(n) == "merge" and (
        quorum_of(graph, n) is not None or getattr(graph.params[n], "waitFor", "all") == "any")
        for n in range(len(graph)))


def _key(emitter: Emitter, merge: int) -> dict[str, object]:
    run_index = emitter.run_index() or "0"
    name = literal(emitter.graph.name(merge))
    return {"quorumKey": {"S": jsonata(
        f'{emitter.execution}.Id & "#" & {name} & "#" & $string({run_index})')}}


def _end_at(states: dict[str, asl.State], target: str) -> None:
    """Send every end of a racing branch (except skipped ones: they never count) to
    ``target``."""
    for state_name, state in list(states.items()):
        ends = state.next is None and not isinstance(state, asl.Choice | asl.Fail)
        if ends and not state_name.startswith("#skipped"):
            states[state_name] = replace(state, next=target)


def finish_branch(emitter: Emitter, merge: int, index: int, first: str,
                  states: dict[str, asl.State]) -> None:
    """Send every end of a racing branch (except skipped ones) through the quorum count."""
    quorum = quorum_of(emitter.graph, merge)
    assert quorum is not None
    _end_at(states, _count(emitter, merge, index, first, states, quorum,
                           emitter.helper("finished", first)))


def finish_race_branch(emitter: Emitter, merge: int, index: int, first: str,
                       states: dict[str, asl.State]) -> None:
    """A waitFor-any branch's end: ``#fits? <branch>`` (Choice) fails the Parallel from
    ``#finished <branch>`` with the outputs as the cause when they fit it, and otherwise
    stores them as the quorum of one does (``#store <branch>``; ``race_catchers`` reads
    them back)."""
    from compiler.lowering.scope import BRANCH_FINISHED

    fits = emitter.helper("fits?", first)
    finished = emitter.helper("finished", first)
    store = _count(emitter, merge, index, first, states, 1, emitter.helper("store", first))
    _end_at(states, fits)
    states[fits] = asl.Choice(
        choices=(asl.ChoiceRule(jsonata(f"$length($string($states.input)) > {CAUSE_LIMIT}"),
                                store),),
        default=finished)
    states[finished] = asl.Fail(error=BRANCH_FINISHED, cause=jsonata("$string($states.input)"))


def _count(emitter: Emitter, merge: int, index: int, first: str,
           states: dict[str, asl.State], quorum: int, finished: str) -> str:
    """The finish's atomic update (``finished``), its ``#quorum?`` check and its end;
    returns ``finished``."""
    item = f"{emitter.var[merge]}_quorum_{index}"  # one name per branch: one scope each
    check = emitter.helper("quorum?", first)
    reached = emitter.helper("reached", first)
    counted = emitter.helper("counted", first)
    states[finished] = asl.Task(
        resource=UPDATE_ITEM,
        arguments={
            "TableName": QUORUM_TABLE,
            "Key": _key(emitter, merge),
            "UpdateExpression": "SET #b = :b, finishers = list_append("
                                "if_not_exists(finishers, :none), :me), "
                                "expiresAt = if_not_exists(expiresAt, :expires)",
            "ExpressionAttributeNames": {"#b": f"b{index}"},
            "ExpressionAttributeValues": {
                ":b": {"S": jsonata("$string($states.input)")},
                ":me": {"L": [{"S": str(index)}]},
                ":none": {"L": []},
                ":expires": {"N": jsonata(
                    f"$string($floor($millis() / 1000) + {EXPIRES_AFTER_SECONDS})")},
            },
            "ReturnValues": "ALL_NEW",
        },
        assign={item: jsonata("$states.result.Attributes")},
        output=jsonata("$states.input"),
        next=check,
    )
    states[check] = asl.Choice(
        choices=(asl.ChoiceRule(jsonata(f"$count(${item}.finishers.L) = {quorum}"), reached),),
        default=counted,
    )
    fits = f"$length($string(${item})) <= {CAUSE_LIMIT}"
    states[reached] = asl.Fail(
        error=jsonata(f"{fits} ? {literal(QUORUM_REACHED)} : {literal(QUORUM_REACHED_STORED)}"),
        cause=jsonata(f'{fits} ? $string(${item}) : "winners stored in the quorum table"'),
    )
    states[counted] = asl.Succeed()
    return finished


def winners(emitter: Emitter, merge: int, exported: dict[int, int], item: str,
            quorum: int | None = None) -> dict[str, str]:
    """Assign of every exported node variable from the quorum ``item`` (JSONata of its
    DynamoDB attributes): a winner's outputs, or empty ports for a branch that lost.
    ``quorum``: how many win (default: the merge's N; a waitFor-any race: 1)."""
    quorum = quorum or quorum_of(emitter.graph, merge)
    assert quorum is not None
    assigned: dict[str, str] = {}
    for node, index in exported.items():
        key = emitter.key[node]  # the node's entry in its branch's output
        assigned[emitter.var[node]] = jsonata(
            f"($a := {item}; $won := $a.finishers.L[[0..{quorum - 1}]].S; "
            f'("{index}" in $won and $exists($a.b{index})) ? $parse($a.b{index}.S).{key} : '
            f"{literal(emitter.empty_ports(node))})")
    return assigned


def _read_back(emitter: Emitter, merge: int, exported: dict[int, int], next_name: str,
               states: dict[str, asl.State], quorum: int | None = None) -> str:
    """``#winners <merge>``: a consistent ``getItem`` of the quorum item, assigning the
    winners' outputs."""
    stored = emitter.helper("winners", emitter.graph.name(merge))
    states[stored] = asl.Task(
        resource=GET_ITEM,
        arguments={"TableName": QUORUM_TABLE, "Key": _key(emitter, merge),
                   "ConsistentRead": True},
        assign=winners(emitter, merge, exported, "$states.result.Item", quorum),
        next=next_name,
    )
    return stored


def race_catchers(emitter: Emitter, merge: int, exported: dict[int, int], next_name: str,
                  states: dict[str, asl.State]) -> tuple[asl.Catcher, ...]:
    """A waitFor-any race's Catch for a winner too big for the cause (the quorum of one)."""
    return (asl.Catcher((QUORUM_REACHED_STORED,),
                        _read_back(emitter, merge, exported, next_name, states, 1)),)


def catchers(emitter: Emitter, merge: int, exported: dict[int, int], next_name: str,
             states: dict[str, asl.State]) -> tuple[asl.Catcher, ...]:
    """The racing Parallel's Catch: winners from the cause, or read back from the table."""
    stored = _read_back(emitter, merge, exported, next_name, states)
    return (
        asl.Catcher((QUORUM_REACHED,), next_name, assign=winners(
            emitter, merge, exported, "$parse($states.errorOutput.Cause)")),
        asl.Catcher((QUORUM_REACHED_STORED,), stored),
    )
