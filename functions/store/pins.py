"""Versioned pin data: every change is a new immutable version, the current one is copied
into ``PinModel`` so the runner reads it with one GetItem.

* ``put`` writes version N+1 (a conditional put: two writers never share a number) and
  makes it current; writing items equal to the current ones changes nothing.
* ``rollback`` makes an old version's items current again, as a new version that records
  where it came from, so history only ever grows.
* ``delete`` removes the current pin; its versions stay (history, rollback).
* Size: a pin's JSON may be at most ``max_bytes``; over ``packing.COMPRESS_OVER`` it is
  stored compressed, and what is stored must fit in a DynamoDB item (``max_stored``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from functions.store.models import PinModel, PinVersionModel
from functions.store.packing import Packed, pack, unpack

Item = dict[str, Any]

MAX_PIN_BYTES = 4_000_000  # JSON of one pin, before compression
MAX_STORED_BYTES = 350_000  # what one DynamoDB item (400 KB) can hold beside its keys


class PinTooLarge(ValueError):
    """A pin over the size limit (the API answers 413)."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class PinVersion:
    workflow_id: str
    node: str
    version: int
    items: list[Item] | None  # None when listed without items
    size_bytes: int
    item_count: int
    created_at: str
    source: dict[str, Any] | None
    compressed: bool

    def summary(self) -> dict[str, Any]:
        """The JSON the API shows (items only when loaded)."""
        body: dict[str, Any] = {
            "workflowId": self.workflow_id, "node": self.node, "version": self.version,
            "sizeBytes": self.size_bytes, "itemCount": self.item_count,
            "createdAt": self.created_at, "source": self.source,
            "compressed": self.compressed,
        }
        if self.items is not None:
            body["items"] = self.items
        return body


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pin_key(workflow_id: str, node: str) -> str:
    return f"{workflow_id}#{node}"


def _version(model: PinVersionModel, with_items: bool) -> PinVersion:
    return PinVersion(
        workflow_id=model.workflowId, node=model.node, version=int(model.pinVersion),
        items=unpack(model.encoding, model.payload) if with_items else None,
        size_bytes=int(model.sizeBytes), item_count=int(model.itemCount),
        created_at=model.createdAt, source=model.source,
        compressed=model.encoding != "json")


class PinStore:
    def __init__(self, *, max_bytes: int = MAX_PIN_BYTES,
                 max_stored: int = MAX_STORED_BYTES) -> None:
        self.max_bytes = max_bytes
        self.max_stored = max_stored

    # ------------------------------------------------------------------ write

    def check_size(self, node: str, items: list[Item]) -> Packed:
        packed = pack(items)
        if packed.size > self.max_bytes:
            raise PinTooLarge(
                f"the pin of node {node!r} is {packed.size:,} bytes of JSON; a pin may be at "
                f"most {self.max_bytes:,} bytes", size=packed.size, limit=self.max_bytes)
        if packed.stored > self.max_stored:
            raise PinTooLarge(
                f"the pin of node {node!r} is {packed.stored:,} bytes even compressed; at most "
                f"{self.max_stored:,} bytes fit in one DynamoDB item", size=packed.stored,
                limit=self.max_stored)
        return packed

    def put(self, workflow_id: str, node: str, items: list[Item],
            source: dict[str, Any] | None = None) -> PinVersion:
        """Make ``items`` the node's pin (a new version unless they equal the current pin's
        items); returns the version now current."""
        packed = self.check_size(node, items)
        current = self._current_model(workflow_id, node)
        if current is not None and current.pinVersion is not None \
                and self._items_of(current) == items:
            latest = self.version(workflow_id, node, int(current.pinVersion))
            if latest is not None:
                return latest
        return self._append(workflow_id, node, items, packed, source)

    def _append(self, workflow_id: str, node: str, items: list[Item], packed: Packed,
                source: dict[str, Any] | None) -> PinVersion:
        key = pin_key(workflow_id, node)
        while True:  # conditional put: a concurrent writer takes the number, we take the next
            number = self._latest_number(key) + 1
            now = _now()
            model = PinVersionModel(
                pinKey=key, pinVersion=number, workflowId=workflow_id, node=node,
                encoding=packed.encoding, payload=packed.payload, sizeBytes=packed.size,
                itemCount=len(items), createdAt=now, source=source)
            try:
                model.save(condition=PinVersionModel.pinVersion.does_not_exist())
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            break
        current = PinModel(workflowId=workflow_id, node=node, updatedAt=now,
                           pinVersion=number, encoding=packed.encoding, payload=packed.payload)
        try:  # the newest version wins, whichever writer gets here last
            current.save(condition=PinModel.pinVersion.does_not_exist()
                         | (PinModel.pinVersion < number), add_version_condition=False)
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        return _version(model, with_items=False)

    def rollback(self, workflow_id: str, node: str, version: int) -> PinVersion | None:
        """Make version ``version``'s items current again (as a new version); None if that
        version does not exist."""
        old = self._version_model(workflow_id, node, version)
        if old is None:
            return None
        items = unpack(old.encoding, old.payload)
        return self._append(workflow_id, node, items, self.check_size(node, items),
                            {"kind": "rollback", "version": version})

    def delete(self, workflow_id: str, node: str) -> bool:
        """Remove the current pin (its versions stay); False if there was none."""
        model = self._current_model(workflow_id, node)
        if model is None:
            return False
        model.delete(add_version_condition=False)
        return True

    # ------------------------------------------------------------------ read

    def current(self, workflow_id: str, node: str) -> PinVersion | None:
        model = self._current_model(workflow_id, node)
        if model is None:
            return None
        if model.pinVersion is None:  # written before pins were versioned
            items = self._items_of(model)
            return PinVersion(workflow_id, node, 0, items, pack(items).size, len(items),
                              model.updatedAt, None, False)
        return self.version(workflow_id, node, int(model.pinVersion), with_items=True)

    def items(self, workflow_id: str, node: str, version: int | None = None) -> list[Item] | None:
        """The items of the current pin (one GetItem), or of ``version``."""
        if version is not None:
            model = self._version_model(workflow_id, node, version)
            if model is not None:
                loaded: list[Item] = unpack(model.encoding, model.payload)
                return loaded
        current = self._current_model(workflow_id, node)
        return self._items_of(current) if current is not None else None

    def current_versions(self, workflow_id: str) -> dict[str, int]:
        """Node -> current pin version of every pinned node of the workflow (one Query)."""
        return {model.node: int(model.pinVersion or 0) for model in PinModel.query(workflow_id)}

    def version(self, workflow_id: str, node: str, version: int,
                with_items: bool = False) -> PinVersion | None:
        model = self._version_model(workflow_id, node, version)
        return _version(model, with_items) if model is not None else None

    def versions(self, workflow_id: str, node: str, limit: int = 100) -> list[PinVersion]:
        """Versions newest first."""
        query = PinVersionModel.query(pin_key(workflow_id, node), scan_index_forward=False,
                                      limit=limit)
        return [_version(model, with_items=False) for model in query]

    def _latest_number(self, key: str) -> int:
        for model in PinVersionModel.query(key, scan_index_forward=False, limit=1):
            return int(model.pinVersion)
        return 0

    @staticmethod
    def _current_model(workflow_id: str, node: str) -> PinModel | None:
        try:
            return PinModel.get(workflow_id, node, consistent_read=True)
        except DoesNotExist:
            return None

    @staticmethod
    def _version_model(workflow_id: str, node: str, version: int) -> PinVersionModel | None:
        try:
            return PinVersionModel.get(pin_key(workflow_id, node), version)
        except DoesNotExist:
            return None

    @staticmethod
    def _items_of(model: PinModel) -> list[Item]:
        if model.payload is not None:
            loaded: list[Item] = unpack(model.encoding, model.payload)
            return loaded
        return list(model.items or [])
