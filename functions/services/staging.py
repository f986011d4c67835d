"""Start inputs too large to travel inline are staged in the payload bucket.

StartExecution takes at most 262,144 bytes of input (UTF-8), the execution record lives in
one DynamoDB item (400 KB), and every runner Task that reads ``$states.context.Execution.
Input`` carries it in its own 256 KiB state input. So an input larger than the inline state
limit (``Config.inline_state_limit``, the same bound node outputs travel by) is written to
S3 as the trigger's items, one port (``[[item, ...]]``, what ``RunRepository.load_payload``
reads), and the execution starts with ``{"items": {"count": n, "ref": "s3://..."}}`` plus
sfnflow's envelope keys. That is the port object node outputs travel as when large, and the
runner resolves it the same way (``functions.runner.resolved_trigger``) before the trigger
node reads its items. Retries and replays copy the reference, not the data.

What cannot be made small enough is the caller's error, ``InputTooLarge`` (413), raised
before anything is recorded or started: an input over StartExecution's limit with no
payload bucket to stage it in, or envelope keys (which stay inline) that are too large on
their own. Without it StartExecution (or DynamoDB, for the record) refused it as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from compiler.errors import SfnflowError
from functions.nodes.triggers import ENVELOPE_KEYS, trigger_items
from functions.store.repository import RunRepository

START_INPUT_MAX_BYTES = 262_144  # StartExecution's input, UTF-8 (Step Functions quotas)


class InputTooLarge(SfnflowError, ValueError):
    """An execution input that can neither travel inline nor be staged (413)."""

    def __init__(self, size: int, limit: int, why: str) -> None:
        super().__init__(f"the execution input has {size:,} bytes; {why}")
        self.what = "execution input"
        self.size = size
        self.limit = limit


def input_bytes(envelope: Any) -> int:
    return len(json.dumps(envelope, separators=(",", ":")).encode())


def stage_large_input(repository: RunRepository, execution_id: str,
                      envelope: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` as is when it is small (or there is no payload bucket), else with its
    items staged under ``inputs/<execution_id>.json`` and referenced."""
    config = repository.config
    size = input_bytes(envelope)
    if size <= config.inline_state_limit:
        return envelope
    if repository.s3 is None or not config.payload_bucket:
        if size <= START_INPUT_MAX_BYTES:
            return envelope
        raise InputTooLarge(size, START_INPUT_MAX_BYTES, f"StartExecution takes at most "
                            f"{START_INPUT_MAX_BYTES:,} and no payload bucket is configured "
                            "to stage it in (SFNFLOW_PAYLOAD_BUCKET)")
    items = trigger_items(envelope)
    kept = {name: value for name, value in envelope.items() if name in ENVELOPE_KEYS}
    if input_bytes(kept) > config.inline_state_limit:
        raise InputTooLarge(size, config.inline_state_limit, "its sfnflow keys ("
                            + ", ".join(sorted(kept)) + f") alone take over "
                            f"{config.inline_state_limit:,} bytes, the inline limit")
    key = f"inputs/{execution_id}.json"
    bucket = repository.put_payload(key, json.dumps([items], separators=(",", ":")),
                                    "the execution input is too large to start inline")
    return kept | {"items": {"count": len(items), "ref": f"s3://{bucket}/{key}"}}
