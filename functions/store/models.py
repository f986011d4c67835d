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
- pinned items of a workflow node          -> PinModel (hash: workflowId, range: node)
"""

from __future__ import annotations

from pynamodb.attributes import (
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


class ExecutionModel(Model):
    class Meta:
        table_name = "sfnflow-executions"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    workflowId = UnicodeAttribute()
    workflowVersion = UnicodeAttribute(null=True)
    executionArn = UnicodeAttribute(null=True)
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


ALL_MODELS: tuple[type[Model], ...] = (ExecutionModel, NodeRunModel, PinModel)


def bind_tables(
    *, prefix: str = "sfnflow", region: str = "us-east-1", host: str | None = None
) -> None:
    """Point every model at its table (``<prefix>-executions`` ...) and endpoint."""
    suffixes = {ExecutionModel: "executions", NodeRunModel: "node-runs", PinModel: "pins"}
    for model, suffix in suffixes.items():
        model.Meta.table_name = f"{prefix}-{suffix}"
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None  # pynamodb caches the connection with the old settings
