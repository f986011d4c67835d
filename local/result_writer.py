"""What a Distributed Map's ``ResultWriter`` writes to S3, written by the local runtime.

moto 5.2.5 parses ``ResultWriter`` but writes only an empty ``manifest.json``: its handler
drops the child executions' results (NOTES.md, "Distributed Map"). Step Functions writes,
under ``<Prefix>/<map run id>/``:

* ``SUCCEEDED_0.json``, ``SUCCEEDED_1.json``, … — JSON arrays of the child executions that
  succeeded, one object each (``Transformation: NONE``, the default when exporting): the
  execution's ARN, name, state machine, status, start and stop dates, and its ``Output`` as
  JSON text (``OutputDetails.Included``); a new file starts when one would pass its size
  limit; likewise ``FAILED_*`` and ``PENDING_*`` for children in those states;
* ``manifest.json``: ``{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [...],
  "PENDING": [...], "SUCCEEDED": [{"Key", "Size"}, ...]}}``;

and the Map state's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``
(``Key``: the manifest's). ``write_results`` writes that layout for the outputs moto's
interpreter collected (every one a success: a failed child fails the Map first —
``moto_patches``), so one definition runs on both. The children's ``Input`` is not
written (moto does not keep it by then; nothing here reads it).

moto's ASL grammar knows only the JSONPath form of ``ResultWriter`` (``Parameters``), not
the JSONata form sfnflow compiles (``Arguments``, JSONata allowed in its values):
``for_moto`` renames the field in a definition's text before moto parses it, and the hook
evaluates the ``{% … %}`` values itself. The hooks into moto's interpreter live in
``local.moto_patches``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

FILE_BYTES_MAX = 5 * 1024**3  # Step Functions starts a new result file past 5 GB


def child_execution_arn(map_run_arn: str, name: str) -> str:
    """A child execution's ARN from its Map Run's: ``…:mapRun:<machine>/<label>:<id>`` ->
    ``…:execution:<machine>/<label>:<name>``."""
    head, _, rest = map_run_arn.partition(":mapRun:")
    machine_and_label = rest.rsplit(":", 1)[0]
    return f"{head}:execution:{machine_and_label}:{name}"


def result_prefix(prefix: str, map_run_arn: str) -> str:
    """``<Prefix>/<map run id>/`` (no leading slash for an empty prefix)."""
    run_id = map_run_arn.rsplit(":", 1)[-1]
    return (f"{prefix.rstrip('/')}/" if prefix else "") + f"{run_id}/"


def result_files(outputs: list[Any], map_run_arn: str, state_machine_arn: str,
                 file_bytes_max: int = FILE_BYTES_MAX) -> list[list[dict[str, Any]]]:
    """The SUCCEEDED files' contents: one record per child output, in order, cut into
    files of at most ``file_bytes_max`` bytes (a record larger than that gets its own)."""
    now = datetime.now(UTC).isoformat()
    files: list[list[dict[str, Any]]] = []
    size = 0
    for output in outputs:
        name = str(uuid.uuid4())
        record = {
            "ExecutionArn": child_execution_arn(map_run_arn, name),
            "Name": name,
            "StateMachineArn": state_machine_arn,
            "Status": "SUCCEEDED",
            "StartDate": now,
            "StopDate": now,
            "Output": json.dumps(output, separators=(",", ":"), ensure_ascii=False),
            "OutputDetails": {"Included": True},
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        }
        record_bytes = len(json.dumps(record).encode()) + 1
        if not files or (files[-1] and size + record_bytes > file_bytes_max):
            files.append([])
            size = 0
        files[-1].append(record)
        size += record_bytes
    return files


def write_results(s3: Any, bucket: str, prefix: str, map_run_arn: str, outputs: list[Any],
                  state_machine_arn: str = "", file_bytes_max: int = FILE_BYTES_MAX
                  ) -> dict[str, Any]:
    """Write the result files and the manifest of one Map Run; returns the Map state's
    result (``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``)."""
    base = result_prefix(prefix, map_run_arn)
    succeeded: list[dict[str, Any]] = []
    for number, records in enumerate(result_files(outputs, map_run_arn, state_machine_arn,
                                                  file_bytes_max)):
        key = f"{base}SUCCEEDED_{number}.json"
        body = json.dumps(records, ensure_ascii=False).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        succeeded.append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn,
                "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": succeeded}}
    key = f"{base}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode())
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}


def for_moto(definition: str) -> str:
    """``definition`` (ASL text) with every ResultWriter's ``Arguments`` renamed
    ``Parameters``, the only form moto's grammar parses; unchanged when there is none."""
    if '"ResultWriter"' not in definition:
        return definition
    document = json.loads(definition)
    pending = [document]
    while pending:
        scope = pending.pop()
        for state in scope.get("States", {}).values():
            writer = state.get("ResultWriter")
            if isinstance(writer, dict) and "Arguments" in writer:
                writer["Parameters"] = writer.pop("Arguments")
            pending.extend(state.get("Branches", []))
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key])
    return json.dumps(document)


def jsonata_expression(value: Any) -> str | None:
    """The expression of a ``{% … %}`` string (None for anything else)."""
    if isinstance(value, str) and value.startswith("{%") and value.endswith("%}"):
        return value[2:-2].strip()
    return None
