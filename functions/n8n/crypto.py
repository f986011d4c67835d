"""Crypto v1: hash or HMAC a text, or generate a random string, into ``dataPropertyName``.

``action`` (default ``hash``): ``hash`` and ``hmac`` digest ``value`` (UTF-8) with
``type`` (default MD5; SHA256, SHA384, SHA512, SHA3-256/384/512; ``hmac`` keys it with
``secret``) as ``encoding`` ``hex`` (default) or ``base64``; ``generate`` makes a
``uuid`` (default, v4) or ``stringLength`` (default 32) random characters: ``hex``,
``base64`` with non-word characters dropped, or ``ascii`` (n8n decodes random bytes as
7-bit ASCII). Every parameter is read per item. The result is set at ``dataPropertyName``
(default ``data``; n8n sets it by a one-key path, so ``a.b`` is a key, not a nesting)
on a copy of the item's json.
``sign`` (a private key) and binary input are refused: sfnflow has neither keys in
parameters nor binary data.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import os
import re
import uuid
from collections.abc import Callable
from typing import Any

from functions.errors import NodeError
from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError, NodeParameterError
from functions.n8n.items import Item, paired

ALGORITHMS = {"MD5": "md5", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512",
              "SHA3-256": "sha3_256", "SHA3-384": "sha3_384", "SHA3-512": "sha3_512"}
_NON_WORD = re.compile(r"\W")

RandomBytes = Callable[[int], bytes]


def _encoded(digest: bytes, encoding: Any, call: NodeCall, index: int) -> str:
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode()
    raise NodeParameterError(call.node, "encoding", f"unknown encoding {encoding!r}",
                             item_index=index)


def _digest(call: NodeCall, index: int, action: str) -> str:
    if call.parameter("binaryData", index, False):
        raise NodeParameterError(call.node, "binaryData", "binary data is not supported on "
                                 "sfnflow", item_index=index)
    kind = call.parameter("type", index, "MD5")
    if kind not in ALGORITHMS:
        raise NodeParameterError(call.node, "type", f"unknown algorithm {kind!r}",
                                 item_index=index)
    value = call.parameter("value", index, "")
    if not isinstance(value, str):
        raise NodeOperationError(call.node, 'The "data" argument must be of type string',
                                 item_index=index)
    data = value.encode()
    if action == "hash":
        digest = hashlib.new(ALGORITHMS[kind], data).digest()
    else:
        secret = str(call.parameter("secret", index, "")).encode()
        digest = hmac.new(secret, data, ALGORITHMS[kind]).digest()
    return _encoded(digest, call.parameter("encoding", index, "hex"), call, index)


def _generate(call: NodeCall, index: int, random_bytes: RandomBytes) -> str:
    kind = call.parameter("encodingType", index, "uuid")
    if kind == "uuid":
        return str(uuid.UUID(bytes=random_bytes(16), version=4))
    length = int(call.parameter("stringLength", index, 32))
    raw = random_bytes(length)
    if kind == "hex":
        return raw.hex()[:length]
    if kind == "base64":
        return _NON_WORD.sub("", base64.b64encode(raw).decode())[:length]
    if kind == "ascii":
        return bytes(byte & 0x7F for byte in raw).decode("ascii")[:length]
    raise NodeParameterError(call.node, "encodingType", f"unknown encoding {kind!r}",
                             item_index=index)


def run(call: NodeCall, random_bytes: RandomBytes = os.urandom) -> list[list[Item]]:
    """``random_bytes`` is the source of ``generate`` (tests pass a fixed one)."""
    action = call.parameter("action", 0, "hash")
    out: list[Item] = []
    for index, item in enumerate(call.items):
        try:
            if action in ("hash", "hmac"):
                value = _digest(call, index, action)
            elif action == "generate":
                value = _generate(call, index, random_bytes)
            else:
                raise NodeParameterError(call.node, "action", f"{action!r} is not supported "
                                         "on sfnflow (hash, hmac, generate)")
            name = str(call.parameter("dataPropertyName", index, "data"))
            json = {**copy.deepcopy(item["json"]), name: value}
        except NodeError as error:
            if not call.continue_on_fail:
                raise
            json = {"error": str(error)}
        out.append({"json": json, "pairedItem": paired(index)})
    return [out]
