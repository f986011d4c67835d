"""A wait node that pauses until something outside resumes it (``resume: webhook`` or
``resume: approval``): one ``.waitForTaskToken`` Task invoking the node runner.

The runner gets the usual node-runner event plus the task token and the wait's settings; it
records the wait (``functions.services.waits``: token, mode, input items) and returns, and
the state then waits until the API sends the token back: SendTaskSuccess with the node's
outputs (``{"ports": [...]}``, assigned to the node's variable like any runner Task) or
SendTaskFailure with ``Sfnflow.Rejected``. A node that would not run (no input items,
skipped by a partial run) or whose output is already known (pinned, disabled, replayed by a
retry) is completed by the runner at once, without pausing.

The node's ``timeoutSeconds`` becomes the Task's ``TimeoutSeconds``: ``States.Timeout``
goes to ``onError`` like any error, or with ``onTimeout: continue`` a first Catch hands the
input items on as the node's output. Either way, when the workflow goes on, a ``#expired``
Task tells the runner first, so the run data stops showing the execution as waiting. There
is no ``HeartbeatSeconds``: nobody sends heartbeats for a person or a third party, so it
would be a second timeout.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata
from compiler.lowering import region, task
from compiler.nodetypes import WaitParams

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

CALLBACK_RESOURCE = asl.integration("lambda:invoke.waitForTaskToken")
REJECTED = "Sfnflow.Rejected"
TIMEOUT = "States.Timeout"


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    params = emitter.graph.params[node]
    assert isinstance(params, WaitParams) and params.resume != "time"
    spec = emitter.graph.nodes[node]
    name, var = spec.name, emitter.var[node]
    payload = task.runner_arguments(emitter, node)
    payload.pop("outputRefs", None)  # the API sends the outputs, always inline
    payload["taskToken"] = jsonata("$states.context.Task.Token")
    payload["wait"] = {"mode": params.resume, "timeoutSeconds": spec.timeoutSeconds}
    catch = _timeout_catchers(emitter, node, params, states, next_name, out)
    catch += task.catchers(emitter, node, states, next_name, out) or \
        region.failure_catch(emitter, node, states)
    catch = _expiring(emitter, node, payload, catch, states)
    states[name] = asl.Task(
        comment=f"sfnflow wait: resume by {params.resume}",
        resource=CALLBACK_RESOURCE,
        arguments={"FunctionName": task.NODE_RUNNER, "Payload": payload},
        assign={var: jsonata("$states.result")},
        output=emitter.end_output(next_name, out, {node: "$states.result"}),
        next=next_name,
        retry=task.retriers(emitter, node),
        catch=catch,
        timeout_seconds=spec.timeoutSeconds,
    )
    return name


def _expiring(emitter: Emitter, node: int, payload: dict[str, object],
              catch: tuple[asl.Catcher, ...],
              states: dict[str, asl.State]) -> tuple[asl.Catcher, ...]:
    """When the workflow goes on after a timeout, it first tells the runner
    (``waitExpired``), which marks the wait timed out and the execution running again:
    nothing else sees a Task time out. One Lambda call, on timeouts only."""
    handler = next((c for c in catch if TIMEOUT in c.errors or "States.ALL" in c.errors), None)
    if handler is None:  # the execution fails: its status says so
        return catch
    expire = emitter.helper("expired", emitter.graph.nodes[node].name)
    arguments = {key: value for key, value in payload.items() if key != "taskToken"}
    states[expire] = asl.Task(
        resource=task.NODE_RUNNER, arguments=arguments | {"waitExpired": True},
        output=jsonata("$states.input"), next=handler.next,
        retry=task.SERVICE_RETRIERS)
    if handler.errors == (TIMEOUT,):
        return tuple(replace(c, next=expire) if c is handler else c for c in catch)
    return (replace(handler, errors=(TIMEOUT,), next=expire), *catch)


def pass_through(emitter: Emitter, node: int) -> str:
    """JSONata of the node's outputs when its input items pass through (on the main port)."""
    empty = "".join(',{"count":0,"items":[]}' for _ in emitter.graph.outputs[node][1:])
    return f'($i := {emitter.input_items(node)}; {{"ports":[{{"count":$count($i),' \
        f'"items":$i}}{empty}]}})'


def _timeout_catchers(emitter: Emitter, node: int, params: WaitParams,
                      states: dict[str, asl.State], next_name: str | None,
                      out: ScopeOutput) -> tuple[asl.Catcher, ...]:
    """``onTimeout: continue``: the timeout hands the input items on (before onError)."""
    if params.onTimeout != "continue" or emitter.graph.nodes[node].timeoutSeconds is None:
        return ()
    ports = jsonata(pass_through(emitter, node))
    if next_name is not None:
        return (asl.Catcher((TIMEOUT,), next_name, assign={emitter.var[node]: ports}),)
    timed_out = emitter.helper("timed out", emitter.graph.nodes[node].name)
    states[timed_out] = asl.Pass(output=out.expression(emitter, {node: "$states.input"}))
    return (asl.Catcher((TIMEOUT,), timed_out, output=ports),)
