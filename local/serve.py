"""The local platform behind ``sfnflow serve``: cloud, workflows, event threads, HTTP.

``LocalPlatform`` opens the embedded cloud, deploys every workflow of a folder through the
API's own ``WorkflowService`` (children before the workflows that run them), starts the
threads that stand in for EventBridge (status-change events) and EventBridge Scheduler,
and serves the API on loopback. Tests use it exactly as the CLI does.

With ``state_dir`` (``sfnflow serve``'s default, ``.sfnflow/state``) the cloud keeps its
state there (``local.persistence``) and, once restored, the executions the last process
left unfinished are resumed or failed (``local.recovery``) before anything else runs; a
workflow of the folder already deployed with the same document is left as it is, a
changed one gets a new version.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from compiler import load_file
from compiler.project import WORKFLOW_SUFFIXES, child_names, workflow_name
from local.cloud import LocalCloud, api_gateway
from local.recovery import Recovered, recover_executions
from local.server import LocalServer


def _documents(folder: Path) -> list[dict[str, Any]]:
    return [load_file(path) for path in sorted(folder.iterdir())
            if path.suffix in WORKFLOW_SUFFIXES and path.is_file()]


def deployment_order(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents ordered so that every workflow comes after the ones it runs."""
    by_name = {str(workflow_name(doc)): doc for doc in documents}
    ordered: list[dict[str, Any]] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) is not None or name not in by_name:
            return  # done, in progress (a cycle: deploy reports it), or not in the folder
        state[name] = "visiting"
        for child in child_names(by_name[name]):
            visit(child)
        state[name] = "done"
        ordered.append(by_name[name])

    for name in by_name:
        visit(name)
    return ordered


class LocalPlatform:
    """Use as a context manager; ``url`` and ``api_key`` once entered."""

    def __init__(self, *, port: int = 0, workflows: Path | None = None,
                 api_key: str | None = None, time_scale: float = 1.0,
                 state_dir: Path | None = None) -> None:
        self.port = port
        self.workflows = workflows
        self.api_key = api_key or os.environ.get("SFNFLOW_API_KEY") or secrets.token_urlsafe(18)
        self.cloud = LocalCloud(time_scale=time_scale, state_dir=state_dir)
        self.server: LocalServer | None = None
        self.deployed: list[str] = []
        self.recovered = Recovered()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def __enter__(self) -> LocalPlatform:
        self.cloud.__enter__()
        try:
            self.server = LocalServer(api_gateway(self.api_key), port=self.port)
            os.environ["SFNFLOW_API_URL"] = self.server.url
            # schedules kept from an earlier server are not fired at first sight; the ones
            # deployed from here on are, as EventBridge Scheduler fires a new rate schedule
            self.cloud.scheduler.begin()
            if self.cloud.state is not None:
                self.recovered = self._recover()
            if self.workflows is not None:
                self._deploy_folder(self.workflows)
            self.cloud.start_event_threads()
            self.server.__enter__()
        except BaseException:
            if self.server is not None:  # bound but not serving: free the port
                self.server.__exit__(None, None, None)
            self.cloud.__exit__(None, None, None)
            raise
        return self

    def _deploy_folder(self, folder: Path) -> None:
        from functions.api.dependencies import services

        workflows = services().workflows
        for document in deployment_order(_documents(folder)):
            name = str(workflow_name(document))
            existing = workflows.workflows.get(name)
            if existing is None:
                self.deployed.append(workflows.create(document).workflow_id)
            elif existing.document != document:  # kept from the last run, since edited
                self.deployed.append(workflows.update(name, document).workflow_id)

    def _recover(self) -> Recovered:
        from functions.api.dependencies import services
        from functions.store.waits import WaitRepository

        return recover_executions(self.cloud.sfn, self.cloud.repository,
                                  services().workflows.workflows, WaitRepository())

    def __exit__(self, *exc_info: object) -> None:
        if self.server is not None:
            self.server.__exit__(*exc_info)
        self.cloud.stop_event_threads()
        self.cloud.__exit__(*exc_info)
