"""The run-data repository: the only code that touches the pynamodb models.

Services and handlers get a ``RunRepository`` and deal in plain dataclasses. Node outputs
larger than the inline limit are written to S3 and referenced from the node run.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, QueryError, UpdateError

from functions.config import Config
from functions.store.models import (
    ALL_MODELS,
    ExecutionModel,
    NodeRunModel,
    ProgressEventModel,
    bind_tables,
)
from functions.store.node_logs import bounded_logs
from functions.store.pages import (
    BadCursor,
    Page,
    cursor_refused,
    decode_cursor,
    encode_cursor,
    key_schema,
    partition_key,
)
from functions.store.pins import PinStore

Item = dict[str, Any]
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


# Within one millisecond a node's start sorts before its finish, before the execution's end.
_RANK = {"nodeStarted": 0, "nodeFinished": 1, "executionFinished": 2}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Execution:
    execution_id: str
    workflow_id: str
    status: str
    started_at: str
    mode: str = "manual"
    workflow_version: str | None = None
    execution_arn: str | None = None
    stopped_at: str | None = None
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    pinned: list[str] = field(default_factory=list)
    pin_versions: dict[str, int] = field(default_factory=dict)  # the pins this run uses
    parent_execution_id: str | None = None  # sub-workflow executions: who started them
    parent_node: str | None = None


@dataclass
class NodeRun:
    execution_id: str
    node: str
    node_type: str
    status: str
    started_at: str
    finished_at: str
    duration_ms: int
    attempts: int = 1
    run_index: int = 0
    input_counts: list[int] = field(default_factory=list)
    output_counts: list[int] = field(default_factory=list)
    output: list[list[Item]] | None = None
    error: dict[str, Any] | None = None
    child_execution_id: str | None = None  # executeWorkflow: the execution it started
    output_ref: str | None = None  # where the output is stored when not in the record
    logs: list[str] | None = None  # what the node's code printed (console.log), if anything
    #: an agent's model use: model -> inputTokens, outputTokens, totalTokens, modelCalls
    model_usage: dict[str, dict[str, int]] | None = None
    #: a dynamodb node's consumed capacity: {requests, tables: {table: {capacityUnits}}}
    consumed_capacity: dict[str, Any] | None = None


def _execution(model: ExecutionModel) -> Execution:
    return Execution(
        execution_id=model.executionId,
        workflow_id=model.workflowId,
        status=model.status,
        started_at=model.startedAt,
        mode=model.mode,
        workflow_version=model.workflowVersion,
        execution_arn=model.executionArn,
        stopped_at=model.stoppedAt,
        input=model.input,
        output=model.output,
        error=model.error,
        pinned=list(model.pinned or []),
        pin_versions=dict(model.pinVersions or {}),
        parent_execution_id=model.parentExecutionId,
        parent_node=model.parentNode,
    )


def _put_together(*records: Any) -> None:
    """Put records of any tables in one request (TransactWriteItems) rather than one PutItem
    each: a node run and its ``nodeFinished`` event are written together, so recording a
    run costs one request on the critical path where it cost two, and a reader never sees
    the event without the run. A transaction needs only PutItem on each table (what the
    functions are already granted), where BatchWriteItem would need a grant of its own.
    Each record is checked against the item size limit first, as ``save`` does."""
    from pynamodb.transactions import TransactWrite

    from functions.store.limits import check_item

    for record in records:
        check_item(record)
    with TransactWrite(connection=NodeRunModel._get_connection().connection) as transaction:
        for record in records:
            transaction.save(record)


class RunRepository:
    def __init__(self, config: Config, s3_client: Any = None) -> None:
        self.config = config
        self.s3 = s3_client
        self._presigner: Any = None  # an S3 client that signs URLs with SigV4
        self.pins = PinStore()
        bind_tables(
            prefix=config.table_prefix, region=config.region, host=config.dynamodb_endpoint
        )

    def create_tables(self, *, wait: bool = True) -> None:
        """Create every table on demand (local runtime and tests; CDK creates them in AWS).
        pynamodb's ``create_table`` checks that the table is missing itself. ``wait``
        polls each new table until it is ACTIVE; moto creates tables ACTIVE, so the
        embedded cloud skips those 14 DescribeTable calls."""
        for model in ALL_MODELS:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)

    def _expires_at(self) -> int:
        return int(time.time()) + self.config.retention_days * 86_400

    # ---------------------------------------------------------------- executions

    def create_execution(self, execution: Execution) -> None:
        ExecutionModel(
            executionId=execution.execution_id,
            workflowId=execution.workflow_id,
            workflowVersion=execution.workflow_version,
            executionArn=execution.execution_arn,
            status=execution.status,
            mode=execution.mode,
            startedAt=execution.started_at,
            input=execution.input,
            pinned=execution.pinned or None,
            pinVersions=execution.pin_versions or None,
            parentExecutionId=execution.parent_execution_id,
            parentNode=execution.parent_node,
            expiresAt=self._expires_at(),
        ).save()

    def create_execution_if_absent(self, execution: Execution) -> bool:
        """Create the record unless it exists (status-change events may arrive in any
        order, or twice); returns whether it was created."""
        try:
            self.create_execution(execution)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def forget_unstarted(self, execution_id: str) -> None:
        """Delete the record of a named execution whose StartExecution failed, so the
        caller's retry of the same name (a trigger delivery, a dead letter's redrive, an
        idempotency key) starts it instead of finding it ended; kept FAILED, every retry
        would be answered with the failure and the delivery would be lost."""
        try:
            ExecutionModel.get(execution_id).delete(condition=ExecutionModel.status == "RUNNING")
        except DoesNotExist:
            return
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def get_execution(self, execution_id: str) -> Execution | None:
        try:
            return _execution(ExecutionModel.get(execution_id))
        except DoesNotExist:
            return None

    def record_execution_status(
        self,
        execution_id: str,
        status: str,
        *,
        stopped_at: str | None = None,
        output: Any = None,
        error: dict[str, Any] | None = None,
        announce: bool = True,
        redrive_count: int = 0,
    ) -> bool:
        """Record a status change; a terminal status is final (late events are ignored)
        until a redrive reopens the record (``reopen_redriven``), and a change of an
        attempt before the recorded redrive (``redrive_count`` lower) is ignored too.
        Returns whether anything changed. ``announce``: append ``executionFinished`` to the
        progress events now; the status-change handler does it itself, last, once the
        native nodes' runs are recorded (``announce_finished``)."""
        model = ExecutionModel.get(execution_id)
        if model.status in TERMINAL or int(model.redriveCount or 0) > redrive_count:
            return False
        actions = [ExecutionModel.status.set(status)]
        if stopped_at:
            actions.append(ExecutionModel.stoppedAt.set(stopped_at))
        if output is not None:
            # Pre-serialised: pynamodb takes a one-key dict whose key is a DynamoDB type tag
            # ({"N": ...}, {"S": ...}: a sink node named "N") for an AttributeValue.
            serialized = ExecutionModel.output.serialize(output)
            actions.append(ExecutionModel.output.set({"S": serialized}))
        if error is not None:
            actions.append(ExecutionModel.error.set(error))
        try:  # conditional: of two concurrent deliveries only one finishes the execution
            model.update(actions=actions,
                         condition=~ExecutionModel.status.is_in(*sorted(TERMINAL)))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        if status in TERMINAL and announce:
            self.announce_finished(execution_id, status, stopped_at)
        return True

    def reopen_redriven(self, execution_id: str, redrive_count: int) -> bool:
        """Step Functions' RedriveExecution continues an ended execution under the same
        name: its ``redrive_count``-th redrive makes the record RUNNING again (stop time,
        output and error cleared) — once, conditionally, whichever of its status changes
        arrives first. Returns whether this call reopened it."""
        if redrive_count <= 0:
            return False
        try:  # the record's version is checked too: of two deliveries, one reopens it
            ExecutionModel.get(execution_id).update(
                actions=[ExecutionModel.status.set("RUNNING"),
                         ExecutionModel.redriveCount.set(redrive_count),
                         ExecutionModel.stoppedAt.remove(), ExecutionModel.output.remove(),
                         ExecutionModel.error.remove()],
                condition=ExecutionModel.executionId.exists()
                & (ExecutionModel.redriveCount.does_not_exist()
                   | (ExecutionModel.redriveCount < redrive_count)))
        except DoesNotExist:
            return False
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def announce_finished(self, execution_id: str, status: str, at: str | None) -> None:
        """The last progress event, ``executionFinished``, once: its ``seq`` is derived
        from the stop time, so a repeated status change finds it written and adds none."""
        at = at or utc_now()
        try:
            ProgressEventModel(
                executionId=execution_id, seq=f"{at}#{_RANK['executionFinished']}finished",
                type="executionFinished", status=status, runIndex=0, at=at,
                expiresAt=self._expires_at(),
            ).save(condition=ProgressEventModel.seq.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def name_failed_node(self, execution_id: str, node: str) -> bool:
        """Name the node of a recorded failure that named none yet (a native state's
        failure is known only from the history, read after the status is recorded)."""
        model = ExecutionModel.get(execution_id)
        if not isinstance(model.error, dict) or model.error.get("node") is not None:
            return False
        try:  # optimistic (VersionAttribute): a concurrent change wins
            model.update(actions=[ExecutionModel.error.set({**model.error, "node": node})])
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def query_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        started_from: str | None = None,
        started_to: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Execution]:
        """Executions newest first, one index query whichever filters are given: by
        workflow (status filtered), by status, or all (``byStartedAt``)."""
        started = ExecutionModel.startedAt
        if started_from and started_to:
            range_condition = started.between(started_from, started_to)
        elif started_from:
            range_condition = started >= started_from
        elif started_to:
            range_condition = started <= started_to
        else:
            range_condition = None
        filter_condition = None
        index: Any
        if workflow_id is not None:
            index, hash_key = ExecutionModel.by_workflow, workflow_id
            if status is not None:
                filter_condition = ExecutionModel.status == status
        elif status is not None:
            index, hash_key = ExecutionModel.by_status, status
        else:
            index, hash_key = ExecutionModel.by_started_at, "execution"
        start = decode_cursor(cursor, key_schema(ExecutionModel, index),
                              {partition_key(index): hash_key})
        query = index.query(
            hash_key, range_condition, filter_condition, scan_index_forward=False,
            limit=limit, last_evaluated_key=start)
        try:
            items = [_execution(model) for model in query]
        except QueryError as exc:
            if start is not None and cursor_refused(exc):
                raise BadCursor() from None
            raise
        more = len(items) == limit and query.last_evaluated_key
        return Page(items, encode_cursor(query.last_evaluated_key) if more else None)

    def executions_of(self, workflow_id: str, limit: int = 50) -> list[Execution]:
        query = ExecutionModel.by_workflow.query(
            workflow_id, scan_index_forward=False, limit=limit
        )
        return [_execution(model) for model in query]

    # ---------------------------------------------------------------- node runs

    def record_node_run(self, run: NodeRun, *, offload: bool = False) -> str | None:
        """Record the run; returns the S3 URI of its output when stored there (always when
        ``offload``, else when the output is larger than fits in a DynamoDB item). Its
        logs are kept within ``functions.store.node_logs``' bounds."""
        output, output_ref = run.output, None
        if output is not None:
            encoded = json.dumps(output, separators=(",", ":"))
            if offload or len(encoded) > self.config.inline_output_limit:
                output, output_ref = None, self._offload(run, encoded)
        record = NodeRunModel(
            executionId=run.execution_id,
            runKey=f"{run.node}#{run.run_index:04d}",
            node=run.node,
            nodeType=run.node_type,
            runIndex=run.run_index,
            status=run.status,
            startedAt=run.started_at,
            finishedAt=run.finished_at,
            durationMs=run.duration_ms,
            attempts=run.attempts,
            inputCounts=run.input_counts,
            outputCounts=run.output_counts,
            output=output,
            outputRef=output_ref,
            error=run.error,
            childExecutionId=run.child_execution_id,
            logs=bounded_logs(run.logs),
            modelUsage=run.model_usage or None,
            consumedCapacity=run.consumed_capacity or None,
            expiresAt=self._expires_at(),
        )
        finished = self._progress_event(run.execution_id, "nodeFinished", node=run.node,
                                        status=run.status, run_index=run.run_index,
                                        at=run.finished_at)
        _put_together(record, finished)  # the run and its event: one request
        return output_ref

    def load_payload(self, uri: str) -> list[list[Item]]:
        """The outputs (items per port) stored at ``uri`` by ``record_node_run``."""
        if self.s3 is None:
            raise RuntimeError(f"cannot read {uri}: no S3 client configured")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        loaded: list[list[Item]] = json.loads(self.s3.get_object(Bucket=bucket,
                                                                 Key=key)["Body"].read())
        return loaded

    def payload_bytes(self, uri: str) -> int:
        """The size of a stored payload, without reading it."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return int(self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"])

    def payload_url(self, uri: str, seconds: int) -> str:
        """A pre-signed GET URL of a stored payload, valid ``seconds``. Signed with SigV4:
        botocore presigns S3 URLs with the deprecated SigV2 unless told otherwise."""
        import boto3
        from botocore.config import Config as ClientConfig

        if self._presigner is None:
            meta = self.s3.meta
            self._presigner = boto3.client(
                "s3", region_name=meta.region_name, endpoint_url=meta.endpoint_url,
                config=meta.config.merge(ClientConfig(signature_version="s3v4")))
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        url: str = self._presigner.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
        return url

    def _offload(self, run: NodeRun, encoded: str) -> str:
        key = f"runs/{run.execution_id}/{run.node}/{run.run_index:06d}-{run.attempts}.json"
        bucket = self.put_payload(key, encoded, "node output exceeds the inline limit")
        return f"s3://{bucket}/{key}"

    def put_payload(self, key: str, encoded: str, why: str) -> str:
        """Store ``encoded`` (JSON text) in the payload bucket under ``key``; returns the
        bucket's name. ``why``: what needed it, for the error when there is no bucket."""
        if self.s3 is None or not self.config.payload_bucket:
            raise RuntimeError(
                f"{why} and no payload bucket is configured (set SFNFLOW_PAYLOAD_BUCKET)")
        self.s3.put_object(Bucket=self.config.payload_bucket, Key=key, Body=encoded.encode())
        return self.config.payload_bucket

    def _load_output(self, model: NodeRunModel) -> list[list[Item]] | None:
        if model.outputRef and self.s3 is not None:
            return self.load_payload(model.outputRef)
        return model.output

    def node_runs(self, execution_id: str, *, with_output: bool = True,
                  stored_outputs: bool = True) -> list[NodeRun]:
        """``stored_outputs=False``: outputs kept in S3 are not read (``output_ref`` says
        where they are)."""
        return [
            self._node_run(model, with_output, stored_outputs)
            for model in NodeRunModel.query(execution_id)
        ]

    def _node_run(self, model: NodeRunModel, with_output: bool,
                  stored_outputs: bool = True) -> NodeRun:
        return NodeRun(
            execution_id=model.executionId,
            node=model.node,
            node_type=model.nodeType,
            status=model.status,
            started_at=model.startedAt,
            finished_at=model.finishedAt,
            duration_ms=int(model.durationMs),
            attempts=int(model.attempts),
            run_index=int(model.runIndex),
            input_counts=[int(n) for n in model.inputCounts],
            output_counts=[int(n) for n in model.outputCounts],
            output=(self._load_output(model) if stored_outputs else model.output)
            if with_output else None,
            error=model.error,
            child_execution_id=model.childExecutionId,
            output_ref=model.outputRef,
            logs=list(model.logs) if model.logs else None,
            model_usage=model.modelUsage,
            consumed_capacity=model.consumedCapacity,
        )

    def node_output(self, execution_id: str, node: str,
                    run_index: int | None = None) -> list[list[Item]] | None:
        """Outputs of the latest successful run of ``node`` in the execution (of its run
        ``run_index`` inside a loop, when given), if any."""
        prefix = f"{node}#" if run_index is None else f"{node}#{run_index:04d}"
        runs = NodeRunModel.query(
            execution_id,
            NodeRunModel.runKey.startswith(prefix),
            scan_index_forward=False,
        )
        for model in runs:
            if model.node == node and model.status != "error":
                return self._load_output(model)
        return None

    # ---------------------------------------------------------------- progress

    def append_progress(self, execution_id: str, event_type: str, *, node: str | None = None,
                        status: str | None = None, run_index: int = 0,
                        at: str | None = None) -> None:
        self._progress_event(execution_id, event_type, node=node, status=status,
                             run_index=run_index, at=at).save()

    def _progress_event(self, execution_id: str, event_type: str, *, node: str | None,
                        status: str | None, run_index: int,
                        at: str | None) -> ProgressEventModel:
        at = at or utc_now()
        return ProgressEventModel(
            executionId=execution_id, seq=f"{at}#{_RANK.get(event_type, 9)}"
            f"{uuid.uuid4().hex[:8]}", type=event_type,
            node=node, status=status, runIndex=run_index, at=at,
            expiresAt=self._expires_at(),
        )

    def progress_events(self, execution_id: str, after: str | None = None,
                        limit: int = 100, consistent: bool = False) -> list[dict[str, Any]]:
        """Progress events after the ``seq`` ``after`` (all when None), oldest first."""
        condition = ProgressEventModel.seq > after if after else None
        return [
            {"seq": model.seq, "type": model.type, "node": model.node, "status": model.status,
             "runIndex": int(model.runIndex), "at": model.at}
            for model in ProgressEventModel.query(execution_id, condition, limit=limit,
                                                  consistent_read=consistent)
        ]

    # ---------------------------------------------------------------- pins

    # Versioned, size-limited and compressed in ``functions.store.pins``; these two are
    # what executions need: store a run's pins, read one back.

    def put_pin(self, workflow_id: str, node: str, items: list[Item],
                source: dict[str, Any] | None = None) -> int:
        """Make ``items`` the node's current pin; returns its version (unchanged when the
        items equal the current pin's). Raises ``PinTooLarge``."""
        return self.pins.put(workflow_id, node, items, source or {"kind": "run"}).version

    def get_pin(self, workflow_id: str, node: str,
                version: int | None = None) -> list[Item] | None:
        """The node's current pinned items (of pin ``version`` when given), or None."""
        return self.pins.items(workflow_id, node, version)
