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
"""

from __future__ import annotations

import json
from typing import Any

from functions.nodes.triggers import ENVELOPE_KEYS, trigger_items
from functions.store.repository import RunRepository


def input_bytes(envelope: Any) -> int:
    return len(json.dumps(envelope, separators=(",", ":")).encode())


def stage_large_input(repository: RunRepository, execution_id: str,
                      envelope: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` as is when it is small (or there is no payload bucket), else with its
    items staged under ``inputs/<execution_id>.json`` and referenced."""
    config = repository.config
    if input_bytes(envelope) <= config.inline_state_limit or repository.s3 is None \
            or not config.payload_bucket:
        return envelope
    items = trigger_items(envelope)
    key = f"inputs/{execution_id}.json"
    bucket = repository.put_payload(key, json.dumps([items], separators=(",", ":")),
                                    "the execution input is too large to start inline")
    kept = {name: value for name, value in envelope.items() if name in ENVELOPE_KEYS}
    return kept | {"items": {"count": len(items), "ref": f"s3://{bucket}/{key}"}}
