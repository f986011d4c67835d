"""The workflow registry: workflows deployed through the API, their versions and webhooks.

The only code that touches ``WorkflowModel``, ``WorkflowVersionModel`` and
``WebhookModel``. Tables are bound by ``RunRepository`` (``bind_tables``) or here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, QueryError

from functions.store.limits import check_item
from functions.store.models import WebhookModel, WorkflowModel, WorkflowVersionModel
from functions.store.pages import (
    BadCursor,
    Page,
    cursor_refused,
    decode_cursor,
    encode_cursor,
    key_schema,
)

WORKFLOW_KIND = "workflow"  # every WorkflowModel's ``kind``: the byKind index's one key


class WorkflowExists(Exception):
    """A workflow with this id is already registered."""


@dataclass
class WorkflowRecord:
    workflow_id: str
    version: int
    active: bool
    document: dict[str, Any]
    manifest: dict[str, Any]
    state_machine_arn: str
    created_at: str
    updated_at: str

    def summary(self) -> dict[str, Any]:
        triggers = self.manifest.get("triggers") or []
        return {
            "id": self.workflow_id,
            "name": self.workflow_id,
            "version": self.version,
            "active": self.active,
            "stateMachineArn": self.state_machine_arn,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "triggers": [{"node": t.get("node"), "type": t.get("type")} for t in triggers],
        }


@dataclass
class Webhook:
    method: str
    path: str
    workflow_id: str
    node: str


def _record(model: WorkflowModel, *, with_document: bool = True) -> WorkflowRecord:
    return WorkflowRecord(
        workflow_id=model.workflowId,
        version=int(model.currentVersion),
        active=bool(model.active),
        document=model.document if with_document else {},
        manifest=model.manifest,
        state_machine_arn=model.stateMachineArn,
        created_at=model.createdAt,
        updated_at=model.updatedAt,
    )


def _model(record: WorkflowRecord) -> WorkflowModel:
    return WorkflowModel(
        workflowId=record.workflow_id, kind=WORKFLOW_KIND, currentVersion=record.version,
        active=record.active, document=record.document, manifest=record.manifest,
        stateMachineArn=record.state_machine_arn, createdAt=record.created_at,
        updatedAt=record.updated_at)


def _version_model(record: WorkflowRecord) -> WorkflowVersionModel:
    return WorkflowVersionModel(workflowId=record.workflow_id, workflowVersion=record.version,
                                document=record.document, createdAt=record.updated_at)


def route_key(method: str, path: str) -> str:
    return f"{method.upper()} {path.strip('/')}"


class WorkflowRepository:
    def get(self, workflow_id: str) -> WorkflowRecord | None:
        try:
            return _record(WorkflowModel.get(workflow_id))
        except DoesNotExist:
            return None

    def create(self, record: WorkflowRecord) -> None:
        """Store version 1; raises ``WorkflowExists`` when the id is taken."""
        try:
            _model(record).save(condition=WorkflowModel.workflowId.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise WorkflowExists(record.workflow_id) from None
            raise
        self._put_version(record)

    def check_fits(self, record: WorkflowRecord) -> None:
        """Raise ``ItemTooLarge`` (413) when the record or its version would not fit in a
        DynamoDB item — callers that create other resources first check here, before."""
        check_item(_model(record))
        check_item(_version_model(record))

    def update(self, record: WorkflowRecord) -> None:
        self.check_fits(record)  # an update leaves the whole item: measure it first
        model = WorkflowModel.get(record.workflow_id)
        model.update(actions=[
            WorkflowModel.kind.set(WORKFLOW_KIND),  # items older than the index get listed
            WorkflowModel.currentVersion.set(record.version),
            WorkflowModel.active.set(record.active),
            WorkflowModel.document.set(record.document),
            WorkflowModel.manifest.set(record.manifest),
            WorkflowModel.stateMachineArn.set(record.state_machine_arn),
            WorkflowModel.updatedAt.set(record.updated_at),
        ])
        self._put_version(record)

    def set_active(self, workflow_id: str, active: bool, updated_at: str) -> None:
        WorkflowModel.get(workflow_id).update(actions=[
            WorkflowModel.kind.set(WORKFLOW_KIND), WorkflowModel.active.set(active),
            WorkflowModel.updatedAt.set(updated_at)])

    def _put_version(self, record: WorkflowRecord) -> None:
        _version_model(record).save()

    def delete(self, workflow_id: str) -> None:
        with WorkflowVersionModel.batch_write() as batch:
            for version in WorkflowVersionModel.query(workflow_id):
                batch.delete(version)
        with contextlib.suppress(DoesNotExist):
            WorkflowModel.get(workflow_id).delete()

    def list(self, limit: int, cursor: str | None) -> Page[WorkflowRecord]:
        """Workflows in id order, queried from the ``byKind`` index (a Scan reads the
        whole table per page and no role may run one). The index projects what a summary
        shows: the records' ``document`` is empty."""
        start = decode_cursor(cursor, key_schema(WorkflowModel, WorkflowModel.by_kind),
                              {"kind": WORKFLOW_KIND})
        query = WorkflowModel.by_kind.query(WORKFLOW_KIND, limit=limit,
                                            last_evaluated_key=start)
        try:
            items = [_record(model, with_document=False) for model in query]
        except QueryError as exc:
            if start is not None and cursor_refused(exc):
                raise BadCursor() from None
            raise
        return Page(items, encode_cursor(query.last_evaluated_key) if len(items) == limit
                    else None)

    def versions(self, workflow_id: str) -> list[dict[str, Any]]:
        return [
            {"version": int(model.workflowVersion), "createdAt": model.createdAt,
             "document": model.document}
            for model in WorkflowVersionModel.query(workflow_id, scan_index_forward=False)
        ]

    # ------------------------------------------------------------------ webhooks

    def webhook(self, method: str, path: str) -> Webhook | None:
        try:
            model = WebhookModel.get(route_key(method, path))
        except DoesNotExist:
            return None
        verb, _, route = model.route.partition(" ")
        return Webhook(verb, route, model.workflowId, model.node)

    def webhook_owner(self, method: str, path: str) -> str | None:
        hook = self.webhook(method, path)
        return hook.workflow_id if hook else None

    def put_webhook(self, hook: Webhook) -> None:
        WebhookModel(route=route_key(hook.method, hook.path), workflowId=hook.workflow_id,
                     node=hook.node).save()

    def delete_webhook(self, method: str, path: str) -> None:
        with contextlib.suppress(DoesNotExist):
            WebhookModel.get(route_key(method, path)).delete()
