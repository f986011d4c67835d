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
- every version of a pin, newest first     -> PinVersionModel (hash: "<workflowId>#<node>",
                                              range: pinVersion)
- a cached node result                     -> NodeCacheModel (hash: cacheKey)
- workflow by id; its versions             -> WorkflowModel; WorkflowVersionModel (range: version)
- all workflows, in id order               -> ByKindIndex (hash: kind, range: workflowId)
- the workflow behind a webhook route      -> WebhookModel (hash: route = "<METHOD> <path>")
- progress events of an execution, in order -> ProgressEventModel (hash: executionId, range: seq)
- paused waits of an execution (tokens)   -> WaitModel (hash: executionId, range: waitId)
- live-progress sockets of an execution    -> StreamConnectionModel (hash: executionId,
                                              range: connectionId)
- the execution a socket watches           -> ByConnectionIndex (hash: connectionId)
- branches finished into a quorum Merge,   -> MergeQuorumModel (hash: quorumKey)
  and rendezvous of chains in a Flow
- a workflow's statistics for a day range  -> StatsModel (hash: workflowId,
                                              range: bucket "day#<YYYY-MM-DD>")
- every workflow's statistics, by days     -> ByMonthIndex (hash: month, range: dayWorkflow)
- a node's circuit breaker or token bucket -> NodeGuardModel (hash: guardKey)
- every circuit breaker                    -> ByGuardKindIndex (hash: kind, range: guardKey)
- a workflow's admission: slots, leases,   -> AdmissionModel (hash: scope = workflowId,
  queued executions in admission order        range: entry "slots" | "lease#<id>" |
                                              "queue#<rank>#<queuedAt>#<id>")
- every queued execution in admission      -> ByAdmissionKindIndex (hash: kind "queued" |
  order; every lease, oldest first            "lease", range: order)
"""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from functions.store.limits import check_item


class BoundedModel(Model):
    """A table's model that refuses, before writing, an item over DynamoDB's 400 KB
    (``functions.store.limits``: ``ItemTooLarge``) rather than failing in the write."""

    def save(self, condition: Any = None, *, add_version_condition: bool = True,
             ) -> dict[str, Any]:
        check_item(self)
        return super().save(condition, add_version_condition=add_version_condition)


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


class ExecutionModel(BoundedModel):
    class Meta:
        table_name = "sfnflow-executions"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    workflowId = UnicodeAttribute()
    workflowVersion = UnicodeAttribute(null=True)
    executionArn = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="execution")  # the byStartedAt index's constant key
    status = UnicodeAttribute()  # QUEUED | RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    mode = UnicodeAttribute(default="manual")
    startedAt = UnicodeAttribute()
    stoppedAt = UnicodeAttribute(null=True)
    input = JSONAttribute(null=True)
    output = JSONAttribute(null=True)
    error = JSONAttribute(null=True)  # {"type", "message", "node"}
    pinned = ListAttribute(of=UnicodeAttribute, null=True)
    pinVersions = JSONAttribute(null=True)  # {node: pin version} used by this run
    parentExecutionId = UnicodeAttribute(null=True)  # set on sub-workflow executions
    parentNode = UnicodeAttribute(null=True)  # the parent's executeWorkflow node
    # Set on executions that went through admission (a concurrency limit applied):
    # {"priority", "entry" (its queue item's key), "queuedAt", "admittedAt"}
    # (functions.store.admission); its presence is what makes an end release a slot.
    admission = JSONAttribute(null=True)
    # Step Functions' RedriveExecution count this record follows: a redrive reopens the
    # record, and a status change of an earlier attempt no longer ends it
    redriveCount = NumberAttribute(null=True)
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL
    version = VersionAttribute()

    by_workflow = ByWorkflowIndex()
    by_status = ByStatusIndex()
    by_started_at = ByStartedAtIndex()


class NodeRunModel(BoundedModel):
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
    logs = ListAttribute(of=UnicodeAttribute, null=True)  # console output, bounded: node_logs
    modelUsage = JSONAttribute(null=True)  # agent: model -> tokens and calls (costs prices)
    consumedCapacity = JSONAttribute(null=True)  # dynamodb node: capacity units per table
    expiresAt = NumberAttribute(null=True)


class PinModel(BoundedModel):
    """The current pin of a workflow node: a copy of its newest ``PinVersionModel``, so the
    runner reads a pin in one GetItem (``functions.store.pins``)."""

    class Meta:
        table_name = "sfnflow-pins"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    node = UnicodeAttribute(range_key=True)
    items = JSONAttribute(null=True)  # pins written before versioning; now in ``payload``
    updatedAt = UnicodeAttribute()
    pinVersion = NumberAttribute(null=True)  # the PinVersionModel this is a copy of
    encoding = UnicodeAttribute(null=True)  # functions.store.packing: json | zlib+base64
    payload = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ByKindIndex(GlobalSecondaryIndex["WorkflowModel"]):
    """Every workflow under one partition key, in id order: ``GET /workflows`` pages
    through it with Query (a request path never scans). It projects what a listing
    shows, not the documents."""

    class Meta:
        index_name = "byKind"
        projection = IncludeProjection(["currentVersion", "active", "stateMachineArn",
                                        "createdAt", "updatedAt", "manifest"])

    kind = UnicodeAttribute(hash_key=True)
    workflowId = UnicodeAttribute(range_key=True)


class WorkflowModel(BoundedModel):
    """The current version of a workflow deployed through the API."""

    class Meta:
        table_name = "sfnflow-workflows"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="workflow")  # the byKind index's constant key
    currentVersion = NumberAttribute()
    active = BooleanAttribute(default=True)
    document = JSONAttribute()
    manifest = JSONAttribute()  # the compiled manifest: triggers, tags, children
    stateMachineArn = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    version = VersionAttribute()

    by_kind = ByKindIndex()


class WorkflowVersionModel(BoundedModel):
    """Every document a workflow ever had (``GET /workflows/{id}/versions``)."""

    class Meta:
        table_name = "sfnflow-workflow-versions"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    workflowVersion = NumberAttribute(range_key=True)
    document = JSONAttribute()
    createdAt = UnicodeAttribute()


class WebhookModel(BoundedModel):
    """Route of an active webhook trigger -> the workflow and node it starts."""

    class Meta:
        table_name = "sfnflow-webhooks"
        region = "us-east-1"

    route = UnicodeAttribute(hash_key=True)  # "<METHOD> <path>"
    workflowId = UnicodeAttribute()
    node = UnicodeAttribute()


class ProgressEventModel(BoundedModel):
    """Progress of an execution: node started / finished, execution finished, in order.
    Its table streams new items to the WebSocket publisher (``functions.services.streams``);
    pynamodb's ``stream_view_type`` is what the CDK stack and the local cloud both read."""

    class Meta:
        table_name = "sfnflow-progress"
        region = "us-east-1"
        stream_view_type = STREAM_NEW_IMAGE

    executionId = UnicodeAttribute(hash_key=True)
    seq = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": sorts by time
    type = UnicodeAttribute()  # nodeStarted | nodeFinished | executionFinished
    node = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    runIndex = NumberAttribute(default=0)
    at = UnicodeAttribute()
    expiresAt = NumberAttribute(null=True)


class ByConnectionIndex(GlobalSecondaryIndex["StreamConnectionModel"]):
    """``$disconnect`` names only the connection: this finds the execution it watched."""

    class Meta:
        index_name = "byConnection"
        projection = KeysOnlyProjection()

    connectionId = UnicodeAttribute(hash_key=True)


class StreamConnectionModel(BoundedModel):
    """A WebSocket connection watching an execution's progress (``functions.store.streams``).
    API Gateway closes a connection after two hours at most; TTL removes what was missed."""

    class Meta:
        table_name = "sfnflow-stream-connections"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    connectionId = UnicodeAttribute(range_key=True)  # API Gateway's connection id
    connectedAt = UnicodeAttribute()
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL

    by_connection = ByConnectionIndex()


class SignalAttribute(MapAttribute[str, Any]):
    """One producer's outputs, as JSON text, in a rendezvous item."""

    slot = UnicodeAttribute()
    output = UnicodeAttribute()


class MergeQuorumModel(BoundedModel):
    """Where parallel branches meet, one item per meeting:

    * finishes of the branches racing into a Merge with ``waitFor: N``, written by the state
      machine itself (``dynamodb:updateItem``, see ``compiler.lowering.quorum``): besides
      ``finishers`` an item holds ``b<index>``, each finished branch's outputs as JSON text;
    * rendezvous of a node with its producers in other branches (``signals``, ``token``:
      ``compiler.lowering.rendezvous``, ``functions.store.rendezvous``)."""

    class Meta:
        table_name = "sfnflow-merge-quorums"
        region = "us-east-1"

    quorumKey = UnicodeAttribute(hash_key=True)  # "<execution ARN>#<node>#<run index>"
    finishers = ListAttribute(of=UnicodeAttribute, null=True)  # branch indexes, in order
    signals = ListAttribute(of=SignalAttribute, null=True)  # producers, in arrival order
    token = UnicodeAttribute(null=True)  # the waiting node's task token, once it is parked
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL


class WaitModel(BoundedModel):
    """A paused wait node (``resume: webhook | approval``): the task token that resumes it,
    kept with its execution (``functions.services.waits``). ``status`` moves once from
    ``waiting`` to ``resumed``, ``approved``, ``rejected`` or ``timedOut``."""

    class Meta:
        table_name = "sfnflow-waits"
        region = "us-east-1"

    executionId = UnicodeAttribute(hash_key=True)
    waitId = UnicodeAttribute(range_key=True)  # "<node slug>-<run index>-<hash of node>"
    workflowId = UnicodeAttribute()
    node = UnicodeAttribute()
    runIndex = NumberAttribute(default=0)
    mode = UnicodeAttribute()  # webhook | approval
    status = UnicodeAttribute()
    token = UnicodeAttribute()
    # the token of the wait's first pause, while it paused again undecided: resume URLs are
    # signed with it (functions.store.waits)
    firstToken = UnicodeAttribute(null=True)
    outputs = NumberAttribute(default=1)  # output ports of the node
    inputs = JSONAttribute(null=True)  # input items per port (passed through on no payload)
    createdAt = UnicodeAttribute()
    deadline = UnicodeAttribute(null=True)  # createdAt + the node's timeoutSeconds
    decidedAt = UnicodeAttribute(null=True)
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL


class PinVersionModel(BoundedModel):
    """Every version a pin ever had (history and rollback); never expires: pins are
    authored data, not run data."""

    class Meta:
        table_name = "sfnflow-pin-versions"
        region = "us-east-1"

    pinKey = UnicodeAttribute(hash_key=True)  # "<workflowId>#<node>" (ids hold no "#")
    pinVersion = NumberAttribute(range_key=True)  # 1, 2, ...
    workflowId = UnicodeAttribute()
    node = UnicodeAttribute()
    encoding = UnicodeAttribute()  # functions.store.packing: json | zlib+base64
    payload = UnicodeAttribute()
    sizeBytes = NumberAttribute()  # JSON size before compression
    itemCount = NumberAttribute()
    createdAt = UnicodeAttribute()
    source = JSONAttribute(null=True)  # {"kind": api|run|execution|rollback, ...}


class NodeCacheModel(BoundedModel):
    """A node's outputs for one input (``cache: {ttlSeconds}``): the runner reuses them
    until ``expiresAt``. DynamoDB TTL deletes the item later; readers check the time."""

    class Meta:
        table_name = "sfnflow-node-cache"
        region = "us-east-1"

    cacheKey = UnicodeAttribute(hash_key=True)  # see functions.services.cache.cache_key
    workflowId = UnicodeAttribute()
    node = UnicodeAttribute()
    encoding = UnicodeAttribute()
    payload = UnicodeAttribute()  # the outputs (items per port), packed
    executionId = UnicodeAttribute()  # the run that computed them
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute()  # DynamoDB TTL: createdAt + ttlSeconds


class ByMonthIndex(GlobalSecondaryIndex["StatsModel"]):
    """Every workflow's day aggregates of a month, by day then workflow: ``GET /stats``
    reads a day range in one Query per month touched. Sparse: markers lack its keys."""

    class Meta:
        index_name = "byMonth"
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)  # "YYYY-MM"
    dayWorkflow = UnicodeAttribute(range_key=True)  # "YYYY-MM-DD#<workflowId>"


class StatsModel(BoundedModel):
    """Per-workflow statistics, kept incrementally as executions end
    (``functions.store.stats``): one aggregate item per workflow and day (counters by
    status, a log-scale duration histogram, the maximum, failures by node), and one marker
    per counted execution, so a repeated status-change event counts nothing twice."""

    class Meta:
        table_name = "sfnflow-stats"
        region = "us-east-1"

    workflowId = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)  # "day#<YYYY-MM-DD>" | "counted#<executionId>"
    month = UnicodeAttribute(null=True)  # aggregates only: the byMonth index's keys
    dayWorkflow = UnicodeAttribute(null=True)
    statuses = MapAttribute[str, Any](null=True)  # status -> executions
    durations = MapAttribute[str, Any](null=True)  # histogram bucket index -> executions
    totalMs = NumberAttribute(null=True)
    maxMs = NumberAttribute(null=True)
    nodeFailures = MapAttribute[str, Any](null=True)  # quoted node name -> executions
    countedAt = UnicodeAttribute(null=True)  # markers only
    expiresAt = NumberAttribute(null=True)  # DynamoDB TTL, markers only

    by_month = ByMonthIndex()


class ByGuardKindIndex(GlobalSecondaryIndex["NodeGuardModel"]):
    """Every circuit breaker, by key: ``GET /admin/breakers`` in one Query. Sparse: token
    buckets lack ``kind``."""

    class Meta:
        index_name = "byGuardKind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)  # "breaker"
    guardKey = UnicodeAttribute(range_key=True)


class NodeGuardModel(BoundedModel):
    """Shared state of a node's circuit breaker or rate limit (``circuitBreaker``,
    ``rateLimit``): one item per key, changed only by conditional writes on ``rev``
    (``functions.store.breakers``), so concurrent runs never both win a transition."""

    class Meta:
        table_name = "sfnflow-node-guards"
        region = "us-east-1"

    guardKey = UnicodeAttribute(hash_key=True)  # "breaker#..." | "rate#..."
    kind = UnicodeAttribute(null=True)  # breakers only: the byGuardKind index's key
    workflowId = UnicodeAttribute(null=True)
    node = UnicodeAttribute(null=True)
    rev = NumberAttribute()  # bumped by every write; the condition of the next one
    state = JSONAttribute()  # the service's state (functions.services.breakers/rate_limits)
    updatedAt = UnicodeAttribute()

    by_kind = ByGuardKindIndex()


class ByAdmissionKindIndex(GlobalSecondaryIndex["AdmissionModel"]):
    """Every queued execution of the stage in admission order (priority rank, then time:
    the stage-wide limit admits from it, ``GET /admin/queue`` counts it), and every lease
    (the reconciler finds slots whose holder ended). Sparse: slot counters lack ``kind``."""

    class Meta:
        index_name = "byAdmissionKind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)  # "queued" | "lease"
    order = UnicodeAttribute(range_key=True)


class AdmissionModel(BoundedModel):
    """Admission of executions under concurrency limits (``functions.store.admission``):
    per workflow (``scope``; ``#stage`` for the stage-wide limit) one ``slots`` counter
    (``held`` of ``limit``, changed only in transactions with a lease), one ``lease#<id>``
    item per execution holding a slot, one ``queue#...`` item per execution waiting, keyed
    so a Query returns them highest priority first, first come first served."""

    class Meta:
        table_name = "sfnflow-admission"
        region = "us-east-1"

    scope = UnicodeAttribute(hash_key=True)  # the workflow id, or "#stage"
    entry = UnicodeAttribute(range_key=True)  # "slots" | "lease#<id>" | "queue#<order>"
    kind = UnicodeAttribute(null=True)  # leases and queued items: the index's key
    order = UnicodeAttribute(null=True)  # "<rank>#<queuedAt>#<id>" | "<acquiredAt>#<id>"
    held = NumberAttribute(null=True)  # slots: executions holding one
    limit = NumberAttribute(null=True)  # slots: the limit last set
    executionId = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(null=True)  # high | normal | low
    stateMachineArn = UnicodeAttribute(null=True)  # what a queued execution starts
    at = UnicodeAttribute(null=True)  # queued at / lease acquired at
    stage = BooleanAttribute(null=True)  # leases: also holds a stage-wide slot

    by_kind = ByAdmissionKindIndex()


ALL_MODELS: tuple[type[Model], ...] = (
    ExecutionModel, NodeRunModel, PinModel, PinVersionModel, NodeCacheModel, WorkflowModel,
    WorkflowVersionModel, WebhookModel, ProgressEventModel, MergeQuorumModel, WaitModel,
    StreamConnectionModel, StatsModel, NodeGuardModel, AdmissionModel,
)

TABLE_SUFFIXES: dict[type[Model], str] = {
    model: model.Meta.table_name.removeprefix("sfnflow-") for model in ALL_MODELS
}
"""Each table is named ``<prefix>-<suffix>``; the suffixes are the declared names' tails."""


def bind_tables(
    *, prefix: str = "sfnflow", region: str = "us-east-1", host: str | None = None
) -> None:
    """Point every model at its table (``<prefix>-executions`` ...) and endpoint."""
    pynamodb.connection.base.get_session = _session_with_shared_loader
    for model in ALL_MODELS:
        model.Meta.table_name = f"{prefix}-{TABLE_SUFFIXES[model]}"
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None  # pynamodb caches the connection with the old settings


_LOADER = botocore.loaders.create_loader()


def _session_with_shared_loader() -> botocore.session.Session:
    """pynamodb opens a botocore session per model and thread, and each session parses
    botocore's endpoint and service JSON again (~0.2 s apiece: seconds on a cold start).
    Sessions sharing one loader parse them once per process."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session
