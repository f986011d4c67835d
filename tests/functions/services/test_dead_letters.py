"""Dead letters on the embedded cloud: a trigger delivery that fails every attempt lands in
the stage's dead-letter queue as Lambda's failure record, is listed, and is redriven once:
redriving twice (or the same record delivered twice) starts one execution."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from functions.services.dead_letters import (
    DeadLetterNotFound,
    DeadLetters,
    DeadLetterUnredrivable,
    parse,
)
from functions.services.triggers import event_execution_name
from local.cloud import TRIGGERS, UNDELIVERED, LocalCloud, local_arn
from tests.conftest import TIME_SCALE

BUS = "letters"


def on_parcel(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [{"name": "Parcel", "type": "eventTrigger", "parameters": {
                      "eventBus": BUS, "pattern": {"source": [f"post.{name}"]}}},
                  {"name": "Sort", "type": "noOp"}],
        "connections": [{"from": "Parcel", "to": "Sort"}],
    }


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        local_cloud.events.create_event_bus(Name=BUS)
        yield local_cloud


@pytest.fixture
def letters(cloud: LocalCloud) -> Iterator[DeadLetters]:
    import boto3

    service = DeadLetters(boto3.client("sqs", region_name="us-east-1"),
                          boto3.client("lambda", region_name="us-east-1"),
                          cloud.config.trigger_dlq_arn)
    yield service
    url = service._queue_url()  # leave the module's queue empty (PurgeQueue: once a minute)
    while batch := service._receive(url, 0):
        for message in batch:
            service.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def executions(cloud: LocalCloud, workflow: str) -> list[dict[str, Any]]:
    return cloud.sfn.list_executions(
        stateMachineArn=local_arn("states", f"stateMachine:{workflow}"))["executions"]


def undeliverable_event(cloud: LocalCloud, workflow: str) -> None:
    """Deploy the workflow, take its machine away and publish a matching event: the
    trigger starter fails every attempt (StateMachineDoesNotExist); then put it back."""
    compiled = compile_workflow(on_parcel(workflow))
    arn = cloud.deploy(compiled)
    cloud.sfn.delete_state_machine(stateMachineArn=arn)
    cloud.events.put_events(Entries=[{"Source": f"post.{workflow}", "DetailType": "Parcel",
                                      "EventBusName": BUS, "Detail": json.dumps({"n": 1})}])
    cloud._state_machines.pop(workflow)
    cloud.deploy(compiled)


def wait_started(cloud: LocalCloud, workflow: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while not executions(cloud, workflow) and time.monotonic() < deadline:
        time.sleep(0.01)
    return executions(cloud, workflow)


def test_a_failed_trigger_delivery_is_listed_with_its_target_and_error(
        cloud: LocalCloud, letters: DeadLetters) -> None:
    undeliverable_event(cloud, "parcels-listed")
    (letter,) = letters.list()
    assert letter.queue == cloud.config.trigger_dlq_arn and letter.queue.endswith(UNDELIVERED)
    assert letter.source == "lambda-async"
    assert letter.target == local_arn("lambda", f"function:{TRIGGERS}") + ":$LATEST"
    assert letter.error["condition"] == "RetriesExhausted"
    assert letter.error["type"] == "StateMachineDoesNotExist"
    assert letter.payload["workflow"] == "parcels-listed"
    assert letter.payload["event"]["source"] == "post.parcels-listed"
    assert letter.sent_at is not None and letter.sent_at.endswith("Z")
    assert executions(cloud, "parcels-listed") == []
    assert [again.message_id for again in letters.list()] == [letter.message_id]  # a peek


def test_redrive_starts_the_execution_once_and_deletes_the_letter(
        cloud: LocalCloud, letters: DeadLetters) -> None:
    undeliverable_event(cloud, "parcels-redriven")
    (letter,) = letters.list()
    redriven = letters.redrive(letter.message_id)
    assert redriven.message_id == letter.message_id
    (started,) = wait_started(cloud, "parcels-redriven")
    # named after the delivery, as the first attempt would have named it
    assert started["name"] == event_execution_name(letter.payload["rule"],
                                                   letter.payload["event"]["id"])
    assert letters.list() == []
    with pytest.raises(DeadLetterNotFound):
        letters.redrive(letter.message_id)
    # SQS delivers at least once: the same record again starts nothing new either.
    url = letters._queue_url()
    record = {"requestContext": {"functionArn": letter.target, "condition": "RetriesExhausted"},
              "requestPayload": letter.payload}
    copy = letters.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    letters.redrive(copy["MessageId"])
    assert [e["name"] for e in executions(cloud, "parcels-redriven")] == [started["name"]]


def test_a_target_that_refuses_keeps_the_letter(cloud: LocalCloud,
                                                letters: DeadLetters) -> None:
    """A target this service does not send to (not a function) leaves the letter visible."""
    url = letters._queue_url()
    elsewhere = local_arn("states", "stateMachine:elsewhere")
    sent = letters.sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"id": "e-1"}),
        MessageAttributes={"TARGET_ARN": {"DataType": "String", "StringValue": elsewhere}})
    with pytest.raises(DeadLetterUnredrivable):
        letters.redrive(sent["MessageId"])
    assert [(letter.message_id, letter.target) for letter in letters.list()] == [
        (sent["MessageId"], elsewhere)]


def test_an_eventbridge_dead_letter_is_read_from_its_attributes() -> None:
    message = {"MessageId": "m-1", "Body": json.dumps({"id": "e-9", "detail": {}}),
               "Attributes": {"SentTimestamp": "1700000000000",
                              "ApproximateReceiveCount": "2"},
               "MessageAttributes": {
                   name: {"DataType": "String", "StringValue": value} for name, value in {
                       "RULE_ARN": "arn:aws:events:us-east-1:1:rule/r",
                       "TARGET_ARN": "arn:aws:lambda:us-east-1:1:function:f",
                       "ERROR_CODE": "SDK_CLIENT_ERROR",
                       "ERROR_MESSAGE": "Unable to invoke Lambda"}.items()}}
    letter = parse("arn:aws:sqs:us-east-1:1:q", message)
    assert letter.view() == {
        "id": "m-1", "queue": "arn:aws:sqs:us-east-1:1:q", "sentAt": "2023-11-14T22:13:20Z",
        "receiveCount": 2, "target": "arn:aws:lambda:us-east-1:1:function:f",
        "source": "arn:aws:events:us-east-1:1:rule/r",
        "error": {"code": "SDK_CLIENT_ERROR", "message": "Unable to invoke Lambda"},
        "payload": {"id": "e-9", "detail": {}}}


def test_a_stream_batch_record_is_listed_but_not_redriven(cloud: LocalCloud,
                                                           letters: DeadLetters) -> None:
    url = letters._queue_url()
    batch = {"shardId": "shardId-1", "startSequenceNumber": "100", "endSequenceNumber": "120",
             "batchSize": 3, "streamArn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/s"}
    record = {"requestContext": {"functionArn": "arn:aws:lambda:us-east-1:1:function:pub",
                                 "condition": "RetryAttemptsExhausted"},
              "DDBStreamBatchInfo": batch}
    sent = letters.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    (letter,) = letters.list()
    assert (letter.source, letter.payload, letter.error) == (
        "dynamodb-stream", batch, {"condition": "RetryAttemptsExhausted"})
    with pytest.raises(DeadLetterUnredrivable):
        letters.redrive(sent["MessageId"])
    assert [kept.message_id for kept in letters.list()] == [sent["MessageId"]]
