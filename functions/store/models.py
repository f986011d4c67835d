"""DynamoDB tables, as pynamodb models: the one definition of keys and indexes.

The CDK stack and the local runtime both create tables from these models, so a key or an
index changes in exactly one place. Table names and the endpoint come from configuration
(``functions.config``), bound by ``bind_tables`` before first use.

Access patterns (no Scan on any request path):
- execution by id                          -> ExecutionModel (hash: executionId)
- executions of a workflow, newest first,  -> ByWorkflowIndex (hash: workflowId,
  filtered by status / time range             range: startedAt)
- executions by status, newest first       -> ByStatusIndex (hash: status, range: startedAt)
- node runs of an execution (in order)     -> NodeRunModel (hash: executionId, range: runKey)
- all executions, newest first             -> ByStartedAtIndex (hash: kind, range: startedAt)
- pinned items of a workflow node          -> PinModel (hash: workflowId, range: node)
- workflow by id; its versions             -> WorkflowModel; WorkflowVersionModel (range: version)
- the workflow behind a webhook route      -> WebhookModel (hash: route = "<METHOD> <path>")
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class ByWorkflowIndex(GlobalSecondaryIndex["ExecutionModel"]):
    class Meta:
        index_name = "byWorkflow"
        projection = AllProjection()

    workflowId = UnicodeAttribute(hash_key=True)
    startedAt = UnicodeAttribute(range_key=True)


class ByStatusIndex(GlobalSecondaryIndex["ExecutionModel"]):
    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    startedAt = UnicodeAttribute(range_key=True)


class ByStartedAtIndex(GlobalSecondaryIndex["ExecutionModel"]):
    """Every execution under one partition key, newest first: ``GET /executions`` with no
    filter. One key caps this index near 1,000 writes/s, far above sfnflow's start rate."""

    class Meta:
        index_name = "byStartedAt"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    startedAt = UnicodeAttribute(range_key=True)


class ExecutionModel(Model):
    class Meta:
        table_name = "sfnflow-executions"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    workflowId = UnicodeAttribute()
    workflowVersion = UnicodeAttribute(null=True)
    executionArn = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="execution")  # the byStartedAt index's constant key
    status = UnicodeAttribute()  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    mode = UnicodeAttribute(default="manual")
    startedAt = UnicodeAttribute()
    stoppedAt = UnicodeAttribute(null=True)
    input = JSONAttribute(null=True)
    output = JSONAttribute(null=True)
    error = JSONAttribute(null=True)  # {"type", "message", "node"}
    pinned = ListAttribute(of=UnicodeAttribute, null=True)
    parentExecutionId = UnicodeAttribute(null=True)  # set on sub-workflow executions
    parentNode = UnicodeAttribute(null=True)  # the parent's executeWorkflow node
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL
    version = VersionAttribute()

    by_workflow = ByWorkflowIndex()
    by_status = ByStatusIndex()
    by_started_at = ByStartedAtIndex()


class NodeRunModel(Model):
    class Meta:
        table_name = "sfnflow-node-runs"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    runKey = UnicodeAttribute(range_key=True)  # "<node>#<run index, 4 digits>"
    node = UnicodeAttribute()
    nodeType = UnicodeAttribute()
    runIndex = NumberAttribute(default=0)
    status = UnicodeAttribute()  # success | error | pinned | disabled
    startedAt = UnicodeAttribute()
    finishedAt = UnicodeAttribute()
    durationMs = NumberAttribute()
    attempts = NumberAttribute(default=1)
    inputCounts = ListAttribute(of=NumberAttribute)
    outputCounts = ListAttribute(of=NumberAttribute)
    output = JSONAttribute(null=True)  # items per output port, when small enough
    outputRef = UnicodeAttribute(null=True)  # s3://bucket/key otherwise
    error = JSONAttribute(null=True)  # {"type", "message"}
    childExecutionId = UnicodeAttribute(null=True)  # executeWorkflow: the child execution
    expiresAt = NumberAttribute(null=True)


class PinModel(Model):
    class Meta:
        table_name = "sfnflow-pins"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    node = UnicodeAttribute(range_key=True)
    items = JSONAttribute()
    updatedAt = UnicodeAttribute()
    version = VersionAttribute()


class WorkflowModel(Model):
    """The current version of a workflow deployed through the API."""

    class Meta:
        table_name = "sfnflow-workflows"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    currentVersion = NumberAttribute()
    active = BooleanAttribute(default=True)
    document = JSONAttribute()
    manifest = JSONAttribute()  # the compiled manifest: triggers, tags, children
    stateMachineArn = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    version = VersionAttribute()


class WorkflowVersionModel(Model):
    """Every document a workflow ever had (``GET /workflows/{id}/versions``)."""

    class Meta:
        table_name = "sfnflow-workflow-versions"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    workflowVersion = NumberAttribute(range_key=True)
    document = JSONAttribute()
    createdAt = UnicodeAttribute()


class WebhookModel(Model):
    """Route of an active webhook trigger -> the workflow and node it starts."""

    class Meta:
        table_name = "sfnflow-webhooks"
        region = "us-east-1"

    route = UnicodeAttribute(hash_key=True)  # "<METHOD> <path>"
    workflowId = UnicodeAttribute()
    node = UnicodeAttribute()


ALL_MODELS: tuple[type[Model], ...] = (ExecutionModel, NodeRunModel, PinModel, WorkflowModel,
                                       WorkflowVersionModel, WebhookModel)

TABLE_SUFFIXES: dict[type[Model], str] = {
    model: model.Meta.table_name.removeprefix("sfnflow-") for model in ALL_MODELS
}
"""Each table is named ``<prefix>-<suffix>``; the suffixes are the declared names' tails."""


def bind_tables(
    *, prefix: str = "sfnflow", region: str = "us-east-1", host: str | None = None
) -> None:
    """Point every model at its table (``<prefix>-executions`` ...) and endpoint."""
    for model in ALL_MODELS:
        model.Meta.table_name = f"{prefix}-{TABLE_SUFFIXES[model]}"
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None  # pynamodb caches the connection with the old settings
