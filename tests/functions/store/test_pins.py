"""Versioned pins (``functions.store.pins``) and the packing they share with the cache."""

from __future__ import annotations

import threading

import pytest

from functions.store.models import PinModel, PinVersionModel
from functions.store.packing import COMPRESSED, PLAIN, pack, unpack
from functions.store.pins import PinStore, PinTooLarge
from local.cloud import LocalCloud


def test_packing_compresses_large_values_transparently() -> None:
    small = [{"a": 1}]
    large = [{"id": index, "text": "the same words again " * 4} for index in range(2_000)]
    assert pack(small).encoding == PLAIN
    packed = pack(large)
    assert packed.encoding == COMPRESSED and packed.stored < packed.size / 5
    assert unpack(packed.encoding, packed.payload) == large
    assert unpack(None, '{"legacy": true}') == {"legacy": True}


def test_every_change_is_a_version_and_history_is_kept(cloud: LocalCloud) -> None:
    pins = PinStore()
    first = pins.put("wf", "Fetch", [{"v": 1}])
    second = pins.put("wf", "Fetch", [{"v": 2}], {"kind": "api"})
    same = pins.put("wf", "Fetch", [{"v": 2}])  # unchanged items: no new version
    assert (first.version, second.version, same.version) == (1, 2, 2)
    assert cloud.repository.get_pin("wf", "Fetch") == [{"v": 2}]
    assert cloud.repository.get_pin("wf", "Fetch", version=1) == [{"v": 1}]
    history = pins.versions("wf", "Fetch")
    assert [(p.version, p.item_count) for p in history] == [(2, 1), (1, 1)]
    assert history[0].source == {"kind": "api"}


def test_rollback_appends_the_old_items_as_a_new_version(cloud: LocalCloud) -> None:
    pins = PinStore()
    pins.put("wf", "N", [{"v": 1}])
    pins.put("wf", "N", [{"v": 2}])
    rolled = pins.rollback("wf", "N", 1)
    assert rolled is not None and rolled.version == 3
    assert rolled.source == {"kind": "rollback", "version": 1}
    assert pins.items("wf", "N") == [{"v": 1}]
    assert [p.version for p in pins.versions("wf", "N")] == [3, 2, 1]
    assert pins.rollback("wf", "N", 9) is None


def test_delete_removes_the_current_pin_but_not_its_history(cloud: LocalCloud) -> None:
    pins = PinStore()
    pins.put("wf", "N", [{"v": 1}])
    assert pins.delete("wf", "N") is True
    assert pins.delete("wf", "N") is False
    assert pins.items("wf", "N") is None and pins.current("wf", "N") is None
    assert [p.version for p in pins.versions("wf", "N")] == [1]
    assert pins.put("wf", "N", [{"v": 1}]).version == 2  # numbering continues
    assert pins.current_versions("wf") == {"N": 2}


def test_large_pins_are_stored_compressed(cloud: LocalCloud) -> None:
    items = [{"id": index, "name": f"customer {index}", "tags": ["a", "b", "c"]}
             for index in range(20_000)]  # ~1 MB of JSON: more than a DynamoDB item holds
    pin = PinStore().put("wf", "Big", items)
    stored = PinVersionModel.get("wf#Big", pin.version)
    assert stored.encoding == COMPRESSED and stored.sizeBytes > 900_000
    assert PinModel.get("wf", "Big").encoding == COMPRESSED
    assert cloud.repository.get_pin("wf", "Big") == items


def test_size_limit_is_a_clear_error(cloud: LocalCloud) -> None:
    pins = PinStore(max_bytes=1_000)
    with pytest.raises(PinTooLarge, match=r"pin of node 'N' is [\d,]+ bytes of JSON; a pin "
                                          r"may be at most 1,000 bytes"):
        pins.put("wf", "N", [{"text": "x" * 2_000}])
    incompressible = [{"noise": f"{index * 7919:x}{index ** 3:o}"} for index in range(8_000)]
    with pytest.raises(PinTooLarge, match="even compressed"):
        PinStore(max_stored=10_000).put("wf", "N", incompressible)
    assert pins.versions("wf", "N") == []


def test_concurrent_writers_never_share_a_version_number(cloud: LocalCloud) -> None:
    pins = PinStore()
    errors: list[BaseException] = []

    def write(value: int) -> None:
        try:
            pins.put("wf", "N", [{"v": value}])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(value,)) for value in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p.version for p in pins.versions("wf", "N")) == [1, 2, 3, 4, 5, 6]
    assert pins.current_versions("wf") == {"N": 6}  # the newest version is current


def test_pins_written_before_versioning_still_read(cloud: LocalCloud) -> None:
    PinModel(workflowId="wf", node="Old", items=[{"legacy": 1}], updatedAt="2026-01-01").save()
    assert cloud.repository.get_pin("wf", "Old") == [{"legacy": 1}]
    current = PinStore().current("wf", "Old")
    assert current is not None and current.items == [{"legacy": 1}]
