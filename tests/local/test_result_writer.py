"""A Distributed Map's ResultWriter layout, as the local runtime writes it (moto writes an
empty manifest), and the runner's ``#collect`` reading it back — Step Functions' documented
layout: ``<Prefix>/<map run id>/manifest.json`` listing ``SUCCEEDED_<n>.json`` files of
child executions whose ``Output`` is JSON text, in no particular order."""

from __future__ import annotations

import json
import random
from typing import Any

from functions.services.loop_items import LoopItemStager
from local import result_writer
from local.cloud import PAYLOAD_BUCKET, LocalCloud

MAP_RUN = "arn:aws:states:us-east-1:123456789012:mapRun:wide/L:1f2e3d4c-0000-4000-8000-000000000001"


def _object(cloud: LocalCloud, key: str) -> Any:
    return json.loads(cloud.s3.get_object(Bucket=PAYLOAD_BUCKET, Key=key)["Body"].read())


def test_the_layout_is_a_manifest_listing_result_files(cloud: LocalCloud) -> None:
    outputs = [{"index": i, "ports": [{"count": 1, "items": [{"pad": "x" * 100}]}]}
               for i in range(10)]
    result = result_writer.write_results(cloud.s3, PAYLOAD_BUCKET, "loops/run-results",
                                         MAP_RUN, outputs, state_machine_arn="arn:sm",
                                         file_bytes_max=1500)
    run_id = MAP_RUN.rsplit(":", 1)[-1]
    manifest_key = f"loops/run-results/{run_id}/manifest.json"
    assert result == {"MapRunArn": MAP_RUN,
                      "ResultWriterDetails": {"Bucket": PAYLOAD_BUCKET, "Key": manifest_key}}
    manifest = _object(cloud, manifest_key)
    assert manifest["DestinationBucket"] == PAYLOAD_BUCKET
    assert manifest["MapRunArn"] == MAP_RUN
    files = manifest["ResultFiles"]
    assert files["FAILED"] == [] and files["PENDING"] == []
    assert len(files["SUCCEEDED"]) > 1  # cut at the size limit
    assert [f["Key"] for f in files["SUCCEEDED"]] == [
        f"loops/run-results/{run_id}/SUCCEEDED_{n}.json" for n in range(len(files["SUCCEEDED"]))]
    records = []
    for listed in files["SUCCEEDED"]:
        body = cloud.s3.get_object(Bucket=PAYLOAD_BUCKET, Key=listed["Key"])["Body"].read()
        assert listed["Size"] == len(body)
        records += json.loads(body)
    assert [json.loads(r["Output"]) for r in records] == outputs  # Output is JSON text
    for record in records:
        assert record["Status"] == "SUCCEEDED" and record["OutputDetails"] == {"Included": True}
        assert record["StateMachineArn"] == "arn:sm"
        assert record["ExecutionArn"] == \
            f"arn:aws:states:us-east-1:123456789012:execution:wide/L:{record['Name']}"


def test_collect_joins_unordered_result_files_in_index_order(cloud: LocalCloud) -> None:
    outputs = [{"index": i, "ports": [{"count": 1, "items": [{"i": i}]}]} for i in range(30)]
    result = result_writer.write_results(cloud.s3, PAYLOAD_BUCKET, "p", MAP_RUN, outputs,
                                         file_bytes_max=2000)
    manifest_key = result["ResultWriterDetails"]["Key"]
    manifest = _object(cloud, manifest_key)
    for listed in manifest["ResultFiles"]["SUCCEEDED"]:  # AWS keeps no order: shuffle
        records = _object(cloud, listed["Key"])
        random.Random(7).shuffle(records)
        cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key=listed["Key"],
                            Body=json.dumps(records).encode())
    manifest["ResultFiles"]["SUCCEEDED"].reverse()
    cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key=manifest_key,
                        Body=json.dumps(manifest).encode())
    done = LoopItemStager(cloud.repository).collect({
        "execution": {"id": "e1"}, "node": "L", "ports": [0],
        "results": result["ResultWriterDetails"]})
    assert done["ports"][0]["items"] == [{"i": i} for i in range(30)]
    assert done["ports"][1] == {"count": 0, "items": []}


def test_moto_parses_the_jsonata_form_of_result_writer() -> None:
    """moto's grammar has only ``Parameters`` in a ResultWriter; ``for_moto`` renames the
    JSONata form's ``Arguments`` wherever the Map is nested."""
    writer = {"Resource": "arn:aws:states:::s3:putObject",
              "Arguments": {"Bucket": "{% $b %}", "Prefix": "p"}}
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ResultWriter": writer,
                                          "ItemProcessor": {"StartAt": "X", "States": {}}}}}]}}}
    rewritten = json.loads(result_writer.for_moto(json.dumps(definition)))
    inner = rewritten["States"]["P"]["Branches"][0]["States"]["M"]["ResultWriter"]
    assert inner == {"Resource": writer["Resource"], "Parameters": writer["Arguments"]}
    assert result_writer.for_moto('{"StartAt": "A"}') == '{"StartAt": "A"}'
    assert result_writer.jsonata_expression("{% $b.bucket %}") == "$b.bucket"
    assert result_writer.jsonata_expression("plain") is None


def test_collect_refuses_results_of_children_that_did_not_succeed(cloud: LocalCloud) -> None:
    import pytest

    from functions.errors import RunDataMissing

    key = "p/run/manifest.json"
    cloud.s3.put_object(Bucket=PAYLOAD_BUCKET, Key=key, Body=json.dumps({
        "DestinationBucket": PAYLOAD_BUCKET, "MapRunArn": MAP_RUN, "ResultFiles": {
            "FAILED": [{"Key": "p/run/FAILED_0.json", "Size": 2}], "PENDING": [],
            "SUCCEEDED": []}}).encode())
    with pytest.raises(RunDataMissing, match="FAILED_0.json"):
        LoopItemStager(cloud.repository).collect({
            "execution": {"id": "e1"}, "node": "L", "ports": [0],
            "results": {"Bucket": PAYLOAD_BUCKET, "Key": key}})
