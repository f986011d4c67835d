"""THE LEAK TEST: an execution that uses credentials on the embedded cloud — its upstream
echoes every header and query parameter it got back into the items, then another quotes
them in a 401, so it fails and goes to its error workflow — then every stored
DynamoDB item (every table, scanned), every S3 object, every Step Functions history event,
every CloudWatch Logs event, every captured log line and every progress event is searched
for the secret values and their encodings (URL, JSON, base64 of the basic pair): none.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import boto3
import pytest

from compiler import compile_workflow
from functions import credentials
from functions.credentials import HttpBasicAuth, HttpHeaderAuth, HttpQueryAuth
from local.cloud import REGION, LocalCloud
from tests.conftest import TIME_SCALE
from tests.support.loopback import JsonHandler, serving

HEADER, PASSWORD, QUERY = "hdr-9d41c7f2e0", "pw-5b17e3aa90", "qry/+ 7c02&fe51"
SECRETS = (HEADER, PASSWORD, QUERY)


def forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


LEAKS = set().union(*(forms(s) for s in SECRETS)) | {
    base64.b64encode(f"ann:{PASSWORD}".encode()).decode()}


class Echo(JsonHandler):
    """Answers with everything it got; ``/deny`` as a 401."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        self.reply(401 if url.path == "/deny" else 200,
                   {"headers": dict(self.headers.items()), "query": parse_qs(url.query),
                    "raw": self.path})


class Everything(logging.Handler):
    """Every record of every logger at INFO and up, with its extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps(
            {k: v for k, v in record.__dict__.items() if k != "exc_info"}
            | {"formatted": logging.Formatter().format(record)}, default=str))


def http(name: str, credential: str, path: str) -> dict[str, Any]:
    return {"name": name, "type": "httpRequest", "credentials": {"name": credential},
            "parameters": {"url": path}}


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with serving(Echo) as base:
        yield base


def workflow(name: str, echo: str) -> dict[str, Any]:
    """Two nodes whose upstream echoes their credentials into the items, then one whose
    upstream quotes its query credential in a 401: the execution fails there."""
    nodes = [{"name": "Start", "type": "manualTrigger"},
             http("Header", "partner-header", f"{echo}/echo"),
             http("Basic", "partner-basic", f"{echo}/echo?page=1"),
             http("Query", "partner-query", f"{echo}/deny")]
    names = [node["name"] for node in nodes]
    return {"name": name, "settings": {"errorWorkflow": "on-failure"}, "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:],
                                                                  strict=False)]}


ON_FAILURE = {"name": "on-failure",
              "nodes": [{"name": "Failed", "type": "errorTrigger"},
                        {"name": "Notify", "type": "noOp"}],
              "connections": [{"from": "Failed", "to": "Notify"}]}


def stored_text(cloud: LocalCloud) -> dict[str, str]:
    """Everything the cloud holds, as text per place."""
    places: dict[str, str] = {}
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in dynamodb.list_tables()["TableNames"]:
        items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=table)
                 for item in page["Items"]]
        places[f"dynamodb:{table}"] = json.dumps(items, default=str)
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                places[f"s3:{obj['Key']}"] = body.decode("utf-8", "replace")
    for machine in cloud.sfn.list_state_machines()["stateMachines"]:
        for execution in cloud.sfn.list_executions(
                stateMachineArn=machine["stateMachineArn"])["executions"]:
            arn = execution["executionArn"]
            places[f"history:{arn}"] = json.dumps(cloud.history(arn), default=str) + \
                json.dumps(cloud.sfn.describe_execution(executionArn=arn), default=str)
    logs = boto3.client("logs", region_name=REGION)
    for group in logs.describe_log_groups()["logGroups"]:
        places[f"logs:{group['logGroupName']}"] = json.dumps(
            logs.filter_log_events(logGroupName=group["logGroupName"])["events"])
    return places


@pytest.fixture(scope="module")
def ran(echo: str) -> Iterator[dict[str, Any]]:
    everything = Everything()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.handlers]
    levels = [(logger, logger.level) for logger in loggers]
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        for logger in loggers:  # INFO and up, as Lambda's default log level keeps
            logger.addHandler(everything)
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
        try:
            store = credentials.store_for(cloud.config)
            store.create("partner-header", HttpHeaderAuth(name="X-Api-Key", value=HEADER))
            store.create("partner-basic", HttpBasicAuth(user="ann", password=PASSWORD))
            store.create("partner-query", HttpQueryAuth(name="api_key", value="old-value1"))
            store.rotate("partner-query", HttpQueryAuth(name="api_key", value=QUERY))
            cloud.deploy(compile_workflow(ON_FAILURE))
            bad = cloud.wait(cloud.start(compile_workflow(workflow("denied", echo)),
                                         [{"n": 1}, {"n": 2}]))
            (handled,) = cloud.sfn.list_executions(
                stateMachineArn=cloud._state_machines["on-failure"])["executions"]
            error_run = cloud.wait(handled["name"])
            progress = [event for run in (bad, error_run)
                        for event in cloud.repository.progress_events(run.execution_id)]
            yield {"cloud": cloud, "bad": bad, "error_run": error_run,
                   "progress": progress, "logs": everything.lines,
                   "stored": stored_text(cloud)}
        finally:
            for logger, level in levels:
                logger.removeHandler(everything)
                logger.setLevel(level)
            credentials.reset()


def test_the_credentials_were_used(ran: dict[str, Any]) -> None:
    """Not a vacuous search: the secrets reached the upstream, the run failed where it
    should, and the error workflow ran."""
    cloud, bad = ran["cloud"], ran["bad"]
    (header_items,) = cloud.repository.node_output(bad.execution_id, "Header")
    assert [item["headers"]["X-Api-Key"] for item in header_items] == ["[redacted]"] * 2
    (basic_items,) = cloud.repository.node_output(bad.execution_id, "Basic")
    assert basic_items[0]["headers"]["Authorization"] == "Basic [redacted]"
    assert bad.status == "FAILED" and "401" in (bad.cause or "")
    assert "[redacted]" in (bad.cause or "")  # the 401's body quoted the query credential
    assert ran["error_run"].status == "SUCCEEDED"
    assert ran["progress"] and ran["logs"]


@pytest.mark.parametrize("place", ["stored", "progress", "logs"])
def test_no_secret_is_anywhere(ran: dict[str, Any], place: str) -> None:
    found = ran[place]
    texts = found.items() if isinstance(found, dict) else \
        ((f"{place}[{i}]", json.dumps(v, default=str)) for i, v in enumerate(found))
    leaked = [(where, form) for where, text in texts for form in LEAKS if form in text]
    assert leaked == []
