"""n8n's execution mode (``$mode``, and so ``$execution.mode``) of an sfnflow execution.

n8n names how an execution started: ``manual`` (the editor), ``webhook``, ``trigger``
(schedules and polling triggers), ``integrated`` (a sub-workflow), ``error`` (an error
workflow), ``retry``; ``$execution.mode`` reads ``test`` for ``manual`` and ``production``
for all others (``functions.js.frame``). sfnflow records its own start kind in the
execution input's ``mode`` (``functions.services.executions.trigger_input``); this is the
one place that reads it as n8n's.
"""

from __future__ import annotations

from typing import Any

N8N_MANUAL = "manual"

#: sfnflow's start kinds (the execution input's ``mode``) -> n8n's execution mode.
N8N_MODES = {
    "manual": "manual",  # sfnflow run / the local cloud: the editor's test run
    "partial": "manual",  # a partial run is the editor's "execute node"
    "webhook": "webhook",
    "trigger": "trigger",  # schedules and event rules
    "subworkflow": "integrated",  # started by a parent's Execute Workflow
    "error": "error",  # started by the error router
    "retry": "retry",
    "replay": "retry",  # the same input again
    "api": "webhook",  # POST /workflows/{id}/executions: an HTTP call in production
}


def execution_mode(sfnflow_mode: Any) -> str:
    """n8n's mode of an execution started as ``sfnflow_mode``; manual when unknown."""
    return N8N_MODES.get(str(sfnflow_mode), N8N_MANUAL) if sfnflow_mode else N8N_MANUAL
