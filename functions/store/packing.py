"""JSON values stored in one DynamoDB string attribute, compressed when large.

DynamoDB items hold at most 400 KB, and pins and cached outputs are lists of items that can
be large and repetitive. ``pack`` writes compact JSON, or zlib-compressed JSON in base64
once the JSON is over ``COMPRESS_OVER`` bytes; ``unpack`` reads either. The encoding is
stored beside the payload, so the choice is invisible to readers.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

COMPRESS_OVER = 16_384  # bytes of JSON: smaller values are stored as plain JSON text
PLAIN = "json"
COMPRESSED = "zlib+base64"


@dataclass(frozen=True)
class Packed:
    encoding: str  # PLAIN | COMPRESSED
    payload: str
    size: int  # bytes of the JSON before compression

    @property
    def stored(self) -> int:
        return len(self.payload)


def pack(value: Any, compress_over: int = COMPRESS_OVER) -> Packed:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    raw = text.encode()
    if len(raw) <= compress_over:
        return Packed(PLAIN, text, len(raw))
    compressed = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    return Packed(COMPRESSED, compressed, len(raw))


def unpack(encoding: str | None, payload: str) -> Any:
    if encoding in (None, PLAIN):
        return json.loads(payload)
    if encoding == COMPRESSED:
        return json.loads(zlib.decompress(base64.b64decode(payload)))
    raise ValueError(f"unknown payload encoding {encoding!r}")
