"""The embedded cloud's state on disk: one folder, a write-ahead journal, replayed at start.

Why a journal of the AWS calls the embedded cloud serves, not a pickle of moto's backends:
moto's backends hold threads (running executions), locks, ``botocore`` clients and
generators that do not pickle, and a snapshot is all-or-nothing: to lose at most the last
write it would have to be taken after every write, i.e. the whole state serialised per
call. A journal costs one short line per write, survives a crash mid-write (only the torn
last line is lost) and is a format we own, not moto's private classes. What it records:

* **DynamoDB** (run data, workflows, pins, waits, schedules, queues, breakers): after every
  successful PutItem / UpdateItem / DeleteItem / BatchWriteItem / TransactWriteItems, the
  resulting *image* of each item it touched (``None`` once deleted), read back from moto
  under the journal's lock. Images, not the requests: a conditional update replayed later
  could decide differently (time, other items), an image cannot; and the last image read
  for a key is the newest, whatever order concurrent writers ran in.
* **S3 objects** (payloads): the object is written as a file of ``objects/`` first, then a
  line names it; a delete is a line (the file goes at the next compaction).
* **SQS messages** (dead letters): the queue's messages after every send/delete, as an
  image per queue (receipt handles change on every receive, so a DeleteMessage call could
  not be replayed); a message redriven before the restart stays gone.
* **Control plane** (state machines and their versions, EventBridge rules and targets,
  Scheduler schedules, queues and buckets, Secrets Manager secrets): the HTTP request
  itself, replayed through moto's own request handling in order, so moto assigns the same
  names, ARNs and version numbers again. A delete drops every earlier call of its resource
  at compaction.

Not kept: executions in moto (threads cannot be restored; the run data keeps them listed,
and ``local.recovery`` resumes the paused ones), their Step Functions history, CloudWatch
logs, PutEvents (replaying would deliver events twice), the KMS key of stream tokens.

Durability: each line is written and flushed to the OS before the call returns to its
caller (a killed process loses nothing it answered; a torn last line is dropped at the
next start). ``fsync=True`` also forces every line to the disk (survives a power cut), at
one disk flush per write: ``benchmarks/state_journal.py`` measured PutItem at 115 writes/s
journaled with a flush and 71 with an fsync (about 5 ms more per write, on a loaded shared
disk), while the journal itself is about 5 % of a PutItem's CPU (cProfile). The default is
flush only: a local server's data has to outlive a killed process, not a lost disk.
Restoring 1,000 executions (11,004 items, a 9 MB journal) took 1.8 s of CPU.

At start the journal is read, folded into the live state (last image per item, object
and queue; the calls of live resources), replayed into moto, and written back as a fresh
journal (a temporary file, fsynced, renamed over the old one), so it never grows beyond
the live state plus one session's writes. One process at a time: ``lock`` is held with
``flock`` for the server's life; a second server on the same folder is refused.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from compiler.errors import SfnflowError

__all__ = ["DEFAULT_STATE_DIR", "JournalCorrupt", "Persistence", "RestoreReport",
           "StateDirLocked", "StateError", "read_journal"]

DEFAULT_STATE_DIR = Path(".sfnflow") / "state"
JOURNAL = "journal.jsonl"
OBJECTS = "objects"
LOCK = "lock"
ACCOUNT = "123456789012"  # moto's default account: the embedded cloud's
_log = logging.getLogger("sfnflow.state")


class StateError(SfnflowError):
    """Root of the errors of the local server's state folder."""


class StateDirLocked(StateError):
    """Another process serves from the same state folder."""


class JournalCorrupt(StateError):
    """A line other than the last cannot be read: the journal was edited or damaged."""


# --------------------------------------------------------------------------- what is kept

_ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                          "TransactWriteItems"})
_OBJECT_WRITES = frozenset({"PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
                            "CompleteMultipartUpload"})
_MESSAGE_WRITES = frozenset({"SendMessage", "SendMessageBatch", "DeleteMessage",
                             "DeleteMessageBatch", "PurgeQueue"})
_CALLS = {  # by botocore's event name of the service (its hyphenised service id)
    "sfn": frozenset({
        "CreateStateMachine", "UpdateStateMachine", "DeleteStateMachine",
        "PublishStateMachineVersion", "DeleteStateMachineVersion", "CreateStateMachineAlias",
        "UpdateStateMachineAlias", "DeleteStateMachineAlias", "TagResource",
        "UntagResource"}),
    "eventbridge": frozenset({"CreateEventBus", "DeleteEventBus", "PutRule", "DeleteRule",
                         "PutTargets", "RemoveTargets", "EnableRule", "DisableRule"}),
    "scheduler": frozenset({"CreateSchedule", "UpdateSchedule", "DeleteSchedule",
                            "CreateScheduleGroup", "DeleteScheduleGroup"}),
    "secrets-manager": frozenset({"CreateSecret", "PutSecretValue", "UpdateSecret",
                                 "DeleteSecret", "RestoreSecret", "TagResource",
                                 "UntagResource", "UpdateSecretVersionStage"}),
    "sqs": frozenset({"CreateQueue", "DeleteQueue", "SetQueueAttributes"}),
    "s3": frozenset({"CreateBucket", "DeleteBucket"}),
}
_DELETES = re.compile(r"^Delete(StateMachine|EventBus|Rule|Schedule|ScheduleGroup|Secret|"
                      r"Queue|Bucket)$")
_KEPT_HEADERS = ("content-type", "x-amz-target", "content-md5")
_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.")


def _region(url: str, default: str = "us-east-1") -> str:
    found = _REGION.search(urlsplit(url).netloc + ".")
    return found.group(1) if found else default


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    if hasattr(body, "read"):  # a stream: moto read it already; read what is left
        body.seek(0)
        data = body.read()
        body.seek(0)
        return data if isinstance(data, bytes) else str(data).encode()
    return body if isinstance(body, bytes) else str(body).encode()


def _json_body(request: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(_body(request) or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


# --------------------------------------------------------------------------- moto's state


def _dynamodb(region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][region]


def _s3() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["global"]


def _sqs(region: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT][region]


def _item_key(region: str, table_name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    table = _dynamodb(region).get_table(table_name)
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _item_image(region: str, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _dynamodb(region).get_table(table_name)
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    for _ in range(5):  # another thread may change the item while it is read
        try:
            item = table.get_item(hash_key, range_key)
            return None if item is None else dict(item.to_json()["Attributes"])
        except RuntimeError:
            time.sleep(0)
    raise StateError(f"could not read item {key} of {table_name}")


def _touched_items(region: str, operation: str,
                   body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, key) of every item the write touched."""
    if operation == "PutItem":
        yield body["TableName"], _item_key(region, body["TableName"], body["Item"])
    elif operation in ("UpdateItem", "DeleteItem"):
        yield body["TableName"], body["Key"]
    elif operation == "BatchWriteItem":
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    yield table_name, _item_key(region, table_name,
                                                request["PutRequest"]["Item"])
                elif "DeleteRequest" in request:
                    yield table_name, request["DeleteRequest"]["Key"]
    elif operation == "TransactWriteItems":
        for entry in body.get("TransactItems", []):
            if "Put" in entry:
                put = entry["Put"]
                yield put["TableName"], _item_key(region, put["TableName"], put["Item"])
            for kind in ("Update", "Delete"):
                if kind in entry:
                    yield entry[kind]["TableName"], entry[kind]["Key"]


def _restore_item(region: str, table_name: str, image: dict[str, Any]) -> None:
    """Put an image back as moto's ``Table.put_item`` would, without its checks: they ran
    when the item was first written, and re-summing every attribute's size per attribute
    (moto's ``LimitedSizeDict``) made restoring 11,000 items take seconds."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    table = _dynamodb(region).get_table(table_name)
    item = Item.__new__(Item)
    item.hash_key = DynamoType(image[table.hash_key_attr])
    item.range_key = DynamoType(image[table.range_key_attr]) if table.range_key_attr else None
    item.attrs = LimitedSizeDict({name: DynamoType(value) for name, value in image.items()})
    if item.range_key is not None:
        table.items[item.hash_key][item.range_key] = item
    else:
        table.items[item.hash_key] = item


def _s3_location(url: str) -> tuple[str, str]:
    """(bucket, key) of a virtual-hosted or path-style S3 URL."""
    parts = urlsplit(url)
    host = parts.netloc.split(":")[0]
    path = parts.path.lstrip("/")
    if ".s3." in f".{host}" and not host.startswith("s3."):
        return host.split(".s3")[0], unquote(path)
    bucket, _, key = path.partition("/")
    return bucket, unquote(key)


def _deleted_keys(body: bytes) -> list[str]:
    """The keys of a DeleteObjects request (its XML body)."""
    root = ElementTree.fromstring(body)
    return [element.text or "" for element in root.iter() if element.tag.endswith("Key")]


def _queue_messages(region: str, name: str) -> list[dict[str, Any]] | None:
    try:
        queue = _sqs(region).get_queue(name)
    except Exception:  # deleted meanwhile
        return None
    return [{"id": message.id, "body": message.body,
             "attributes": message.message_attributes,
             "system": message.system_attributes, "sent": message.sent_timestamp,
             "group": message.group_id, "dedup": message.deduplication_id}
            for message in list(queue._messages)]


def _restore_queue(region: str, name: str, messages: list[dict[str, Any]]) -> None:
    from moto.sqs.models import Message

    queue = _sqs(region).get_queue(name)
    queue._messages = []
    for kept in messages:
        message = Message(kept["id"], kept["body"], kept.get("system") or {})
        message.message_attributes = kept.get("attributes") or {}
        message.sent_timestamp = kept.get("sent")
        message.group_id = kept.get("group")
        message.deduplication_id = kept.get("dedup")
        queue._messages.append(message)


# --------------------------------------------------------------------------- the journal


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every record of the journal. A last line that does not parse was torn by a crash
    mid-write and is dropped; any other unreadable line is ``JournalCorrupt``."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            if all(not rest.strip() for rest in lines[number:]):
                _log.warning("state journal %s: dropped a torn last line", path)
                break
            raise JournalCorrupt(f"{path}: line {number} cannot be read ({exc}); move the "
                                 "folder away to start empty") from exc
    return records


def _resource(record: dict[str, Any]) -> str:
    """What a control-plane call creates, changes or deletes, for compaction."""
    service, operation = record["service"], record["op"]
    if service in ("scheduler",):
        return f"{service}:{urlsplit(record['url']).path.rstrip('/')}"
    if service == "s3":
        return f"s3:{_s3_location(record['url'])[0]}"
    body = json.loads(record.get("body") or "{}") if not record.get("b64") else {}
    if service == "sfn":
        arn = body.get("stateMachineArn") or body.get("resourceArn") \
            or body.get("stateMachineAliasArn") or body.get("stateMachineVersionArn")
        name = str(arn).split(":")[6] if arn else body.get("name", "")
        return f"{service}:{name}"
    if service == "eventbridge":
        if operation.endswith("EventBus"):
            return f"events:bus:{body.get('Name')}"
        return f"events:rule:{body.get('EventBusName', 'default')}:" \
               f"{body.get('Name') or body.get('Rule')}"
    if service == "sqs":
        return f"sqs:{body.get('QueueName') or str(body.get('QueueUrl')).rsplit('/', 1)[-1]}"
    secret = str(body.get("SecretId") or body.get("Name") or body.get("ResourceArn") or "")
    if secret.startswith("arn:"):
        secret = re.sub(r"-[A-Za-z0-9]{6}$", "", secret.split(":secret:", 1)[-1])
    return f"{service}:{secret}"


@dataclass
class LiveState:
    """The journal folded: what a fresh journal must hold to rebuild the same cloud."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fold(self, record: dict[str, Any]) -> None:
        kind = record["t"]
        if kind == "call":
            if _DELETES.match(record["op"]):
                gone = _resource(record)
                self.calls = [call for call in self.calls if _resource(call) != gone]
            else:
                self.calls.append(record)
        elif kind == "item":
            key = json.dumps([record["region"], record["table"], record["key"]],
                             sort_keys=True)
            self.items[key] = record
        elif kind == "object":
            self.objects[json.dumps([record["bucket"], record["key"]])] = record
        elif kind == "queue":
            self.queues[json.dumps([record["region"], record["queue"]])] = record

    def records(self) -> Iterator[dict[str, Any]]:
        yield from self.calls
        yield from (r for r in self.items.values() if r["image"] is not None)
        yield from (r for r in self.objects.values() if r["file"] is not None)
        yield from self.queues.values()


@dataclass
class RestoreReport:
    records: int = 0  # lines read
    items: int = 0
    objects: int = 0
    calls: int = 0
    failed_calls: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Persistence:
    """The state folder of one server: ``open()`` locks it and restores the cloud from it,
    then journals every write the cloud serves until ``close()``."""

    def __init__(self, folder: Path, *, fsync: bool = False) -> None:
        self.folder = Path(folder)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._file: Any = None
        self._lock_file: Any = None
        self._stop_listening: Any = None
        self.writes = 0

    @property
    def journal_path(self) -> Path:
        return self.folder / JOURNAL

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> RestoreReport:
        """Lock, read, replay into moto (running: ``mock_aws`` started, the cloud's own
        resources created), compact, and start journaling."""
        from local import moto_patches

        started = time.perf_counter()
        (self.folder / OBJECTS).mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)  # it holds payloads and Secrets Manager values in clear
        self._take_lock()
        try:
            records = read_journal(self.journal_path)
            live = LiveState()
            for record in records:
                live.fold(record)
            report = self._replay(live)
            report.records = len(records)
            self._compact(live)
            self._file = self.journal_path.open("ab")
            self._stop_listening = moto_patches.on_successful_call(self._on_call)
        except BaseException:
            self.close()
            raise
        report.seconds = time.perf_counter() - started
        return report

    def close(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _take_lock(self) -> None:
        handle = (self.folder / LOCK).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StateDirLocked(
                f"the state folder {self.folder} is in use by {holder}: one sfnflow serve "
                "per folder (stop it, or pass another --state-dir)") from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"sfnflow serve, pid {os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    # ------------------------------------------------------------------ restore

    def _replay(self, live: LiveState) -> RestoreReport:
        from botocore.awsrequest import AWSPreparedRequest, HTTPHeaders
        from moto.core.models import botocore_stubber

        report = RestoreReport()
        for call in live.calls:
            headers = HTTPHeaders()
            for name, value in call["headers"].items():
                headers[name] = value
            body = base64.b64decode(call["body"]) if call.get("b64") else \
                call["body"].encode()
            request = AWSPreparedRequest(method=call["method"], url=call["url"],
                                         headers=headers, body=body, stream_output=False)
            response = botocore_stubber.process_request(request)
            status = response[0] if response is not None else 404
            if status >= 300:
                report.failed_calls.append(f"{call['service']}.{call['op']}: {status}")
            report.calls += 1
        for record in live.items.values():
            if record["image"] is not None:
                _restore_item(record["region"], record["table"], record["image"])
                report.items += 1
        for record in live.objects.values():
            if record["file"] is None:
                continue
            path = self.folder / OBJECTS / record["file"]
            if not path.exists():
                report.failed_calls.append(f"s3 object {record['key']}: its file is gone")
                continue
            _s3().put_object(record["bucket"], record["key"], path.read_bytes())
            report.objects += 1
        for record in live.queues.values():
            _restore_queue(record["region"], record["queue"], record["messages"])
        for failure in report.failed_calls:
            _log.warning("state replay: %s", failure)
        return report

    def _compact(self, live: LiveState) -> None:
        fresh = self.journal_path.with_suffix(".tmp")
        with fresh.open("wb") as handle:
            for record in live.records():
                handle.write(_line(record))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(fresh, self.journal_path)
        _fsync_folder(self.folder)
        kept = {record["file"] for record in live.objects.values() if record["file"]}
        for path in (self.folder / OBJECTS).iterdir():
            if path.name not in kept:
                path.unlink()

    # ------------------------------------------------------------------ journaling

    def _on_call(self, event_name: str, request: Any) -> None:
        _, _, rest = event_name.partition(".")
        service, _, operation = rest.partition(".")
        region = _region(str(request.url))
        with self._lock:
            if self._file is None:
                return
            for record in self._records(service, operation, region, request):
                self._append(record)

    def _records(self, service: str, operation: str, region: str,
                 request: Any) -> Iterable[dict[str, Any]]:
        if service == "dynamodb" and operation in _ITEM_WRITES:
            for table, key in _touched_items(region, operation, _json_body(request)):
                yield {"t": "item", "region": region, "table": table, "key": key,
                       "image": _item_image(region, table, key)}
        elif service == "s3" and operation in _OBJECT_WRITES:
            bucket, key = _s3_location(str(request.url))
            if operation == "DeleteObjects":
                for deleted in _deleted_keys(_body(request)):
                    yield {"t": "object", "bucket": bucket, "key": deleted, "file": None}
            else:
                yield self._object(bucket, key)
        elif service == "sqs" and operation in _MESSAGE_WRITES:
            queue = str(_json_body(request).get("QueueUrl", "")).rsplit("/", 1)[-1]
            messages = _queue_messages(region, queue)
            if messages is not None:
                yield {"t": "queue", "region": region, "queue": queue, "messages": messages}
        if operation in _CALLS.get(service, ()):
            yield _call(service, operation, request)

    def _object(self, bucket: str, key: str) -> dict[str, Any]:
        stored = _s3().get_object(bucket, key)
        if stored is None:
            return {"t": "object", "bucket": bucket, "key": key, "file": None}
        name = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()
        path = self.folder / OBJECTS / name
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as handle:
            handle.write(stored.value)
            if self.fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, path)  # the file first, then the line that names it
        return {"t": "object", "bucket": bucket, "key": key, "file": name}

    def _append(self, record: dict[str, Any]) -> None:
        self._file.write(_line(record))
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self.writes += 1


def _call(service: str, operation: str, request: Any) -> dict[str, Any]:
    body = _body(request)
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    headers = {name: value.decode() if isinstance(value, bytes) else str(value)
               for name, value in request.headers.items() if name.lower() in _KEPT_HEADERS}
    return {"t": "call", "service": service, "op": operation, "method": request.method,
            "url": str(request.url), "headers": headers, "body": text, "b64": encoded}


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
