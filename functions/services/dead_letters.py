"""Dead letters: list the deliveries that failed every retry, and redrive them.

One queue (``Config.trigger_dlq_arn``) holds two shapes of message, as AWS writes them:

- a Lambda asynchronous-invocation failure record (the functions' ``OnFailure``
  destination): a JSON body with ``requestContext.functionArn`` and ``requestPayload``;
- a DynamoDB stream batch that failed its retries (the progress publisher's event source
  mapping): ``DDBStreamBatchInfo`` says where in the stream; listed, never redriven;
- an EventBridge or Scheduler dead letter: the body is the event (or the target's input)
  and the message attributes ``TARGET_ARN``, ``RULE_ARN``/``SCHEDULE_ARN``, ``ERROR_CODE``
  and ``ERROR_MESSAGE`` say where it was going and why it did not arrive.

Redrive sends the original payload to the original target again (a Lambda target is
invoked asynchronously, as EventBridge and Scheduler invoke it) and deletes the message
only after the target accepted it. It is idempotent twice over: the message is hidden
while it is redriven and gone afterwards (a second redrive is ``DeadLetterNotFound``), and
the targets name what they start after the original delivery (the trigger starter names an
execution after the event's id or the schedule's fire time), so even a message delivered
twice by SQS starts one execution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import SfnflowError

# How long a message being redriven stays hidden from a concurrent list or redrive.
REDRIVE_VISIBILITY_SECONDS = 60
RECEIVE_BATCH = 10  # SQS's maximum per ReceiveMessage
MAX_LIST = 100
# An event source mapping's OnFailure record of a DynamoDB stream batch: its position only.
STREAM_BATCH = "DDBStreamBatchInfo"
STREAM_SOURCE = "dynamodb-stream"

__all__ = ["DeadLetter", "DeadLetterNotFound", "DeadLetterUnredrivable", "DeadLetters",
           "DeadLettersUnavailable"]


class DeadLetterError(SfnflowError):
    """Root of the dead-letter errors."""


class DeadLettersUnavailable(DeadLetterError):
    """The stage has no dead-letter queue configured."""


class DeadLetterNotFound(DeadLetterError):
    """No such message in the queue (never there, or already redriven)."""


class DeadLetterUnredrivable(DeadLetterError):
    """The message names no target this service can send it to again."""


@dataclass(frozen=True)
class DeadLetter:
    """One message, with where it was going and why it did not get there."""

    message_id: str
    queue: str
    sent_at: str | None
    receive_count: int
    target: str | None
    source: str | None  # the rule or schedule (EventBridge/Scheduler), or "lambda-async"
    error: dict[str, str]
    payload: Any

    def view(self) -> dict[str, Any]:
        return {"id": self.message_id, "queue": self.queue, "sentAt": self.sent_at,
                "receiveCount": self.receive_count, "target": self.target,
                "source": self.source, "error": self.error, "payload": self.payload}


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    text = value.get("StringValue")
    return str(text) if text is not None else None


def parse(queue: str, message: dict[str, Any]) -> DeadLetter:
    """A received SQS message as a ``DeadLetter`` (either shape; unknown bodies kept as text)."""
    try:
        body: Any = json.loads(message.get("Body") or "null")
    except ValueError:
        body = message.get("Body")
    attributes = message.get("Attributes") or {}
    sent = attributes.get("SentTimestamp")
    sent_at = (datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat(timespec="seconds")
               .replace("+00:00", "Z") if sent else None)
    common = {"message_id": str(message["MessageId"]), "queue": queue, "sent_at": sent_at,
              "receive_count": int(attributes.get("ApproximateReceiveCount") or 0)}
    context = body.get("requestContext") if isinstance(body, dict) else None
    if isinstance(context, dict) and STREAM_BATCH in body:
        return DeadLetter(**common, target=context.get("functionArn"), source=STREAM_SOURCE,
                          error={"condition": str(context.get("condition", ""))},
                          payload=body[STREAM_BATCH])
    if isinstance(context, dict) and "requestPayload" in body:
        response = body.get("responsePayload")
        error = {"condition": str(context.get("condition", ""))}
        if isinstance(response, dict):
            error |= {"type": str(response.get("errorType", "")),
                      "message": str(response.get("errorMessage", ""))}
        return DeadLetter(**common, target=context.get("functionArn"), source="lambda-async",
                          error=error, payload=body["requestPayload"])
    error = {key: value for key, value in (
        ("code", _attribute(message, "ERROR_CODE")),
        ("message", _attribute(message, "ERROR_MESSAGE"))) if value is not None}
    return DeadLetter(**common, target=_attribute(message, "TARGET_ARN"),
                      source=_attribute(message, "RULE_ARN") or _attribute(
                          message, "SCHEDULE_ARN"), error=error, payload=body)


class DeadLetters:
    """The stage's dead-letter queue, read and redriven through SQS and Lambda clients."""

    def __init__(self, sqs: Any, lambda_client: Any, queue_arn: str | None) -> None:
        self.sqs = sqs
        self.lambda_client = lambda_client
        self.queue_arn = queue_arn

    def _queue_url(self) -> str:
        if not self.queue_arn:
            raise DeadLettersUnavailable("no dead-letter queue is configured")
        *_, account, name = self.queue_arn.split(":")
        return str(self.sqs.get_queue_url(QueueName=name,
                                          QueueOwnerAWSAccountId=account)["QueueUrl"])

    def _receive(self, url: str, visibility: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=RECEIVE_BATCH, VisibilityTimeout=visibility,
            AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0)
        return list(answer.get("Messages") or [])

    def list(self, limit: int = 50) -> list[DeadLetter]:
        """Up to ``limit`` visible messages, oldest first. SQS has no stable cursor: a list
        peeks (visibility 0, so nothing is hidden); messages being redriven are left out."""
        url = self._queue_url()
        limit = max(1, min(limit, MAX_LIST))
        seen: dict[str, DeadLetter] = {}
        while len(seen) < limit:
            fresh = [m for m in self._receive(url, 0) if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen[message["MessageId"]] = parse(self.queue_arn or "", message)
        return sorted(seen.values(), key=lambda d: d.sent_at or "")[:limit]

    def _take(self, url: str, message_id: str) -> dict[str, Any]:
        """Find the message and hide it for the redrive; others seen on the way are let go."""
        passed: list[dict[str, Any]] = []
        try:
            while True:
                batch = self._receive(url, REDRIVE_VISIBILITY_SECONDS)
                if not batch:
                    raise DeadLetterNotFound(f"dead letter {message_id} not found")
                for message in batch:
                    if message["MessageId"] == message_id:
                        return message
                    passed.append(message)
        finally:
            for message in passed:
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)

    def redrive(self, message_id: str) -> DeadLetter:
        """Send the message's payload to its target again; delete it once accepted."""
        url = self._queue_url()
        message = self._take(url, message_id)
        letter = parse(self.queue_arn or "", message)
        try:
            self._send(letter)
        except BaseException:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            raise
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return letter

    def _send(self, letter: DeadLetter) -> None:
        if letter.source == STREAM_SOURCE:
            raise DeadLetterUnredrivable(
                f"dead letter {letter.message_id}: a stream batch's record holds its position "
                "in the stream, not its data; the live progress it carried is in the events API")
        if not letter.target or ":lambda:" not in letter.target:
            raise DeadLetterUnredrivable(
                f"dead letter {letter.message_id}: target {letter.target!r} is not a function")
        # $LATEST is the unqualified function (the stack grants invoking just that).
        function = letter.target.removesuffix(":$LATEST")
        try:
            self.lambda_client.invoke(FunctionName=function, InvocationType="Event",
                                      Payload=json.dumps(letter.payload).encode())
        except ClientError as exc:
            raise DeadLetterUnredrivable(
                f"dead letter {letter.message_id}: {letter.target} refused it: "
                f"{exc.response['Error']['Code']}") from exc
