"""/credentials over real HTTP on loopback (``sfnflow serve``'s platform, moto's Secrets
Manager): create, rotate, list and describe without a value, delete; bad input is a 4xx
JSON error that never echoes the value."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support.api_client import ApiClient

SECRET = "hdr-value-8f2a61c0"
ROTATED = "hdr-value-rotated-77d1"


@pytest.fixture(scope="module")
def api() -> Iterator[ApiClient]:
    with LocalPlatform(api_key=ApiClient.key, time_scale=TIME_SCALE) as platform:
        yield ApiClient(platform.url)


def secret_value(name: str) -> str:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    return str(client.get_secret_value(
        SecretId=f"sfnflow/local/credentials/{name}")["SecretString"])


def test_create_rotate_list_describe_delete(api: ApiClient) -> None:
    created = api("POST", "/credentials", json={
        "name": "partner-api", "type": "httpHeaderAuth",
        "data": {"name": "X-Api-Key", "value": SECRET}})
    assert created.status_code == 201, created.text
    assert SECRET not in created.text
    assert created.json()["type"] == "httpHeaderAuth"
    assert created.json()["fields"] == {"name": "X-Api-Key"}
    assert SECRET in secret_value("partner-api")  # stored under the stage's prefix

    rotated = api("PUT", "/credentials/partner-api", json={
        "data": {"name": "X-Api-Key", "value": ROTATED}})
    assert rotated.status_code == 200, rotated.text
    assert ROTATED not in rotated.text and ROTATED in secret_value("partner-api")

    listed = api("GET", "/credentials")
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()["items"]] == ["partner-api"]
    assert SECRET not in listed.text and ROTATED not in listed.text
    described = api("GET", "/credentials/partner-api")
    assert described.json()["name"] == "partner-api" and ROTATED not in described.text

    assert api("DELETE", "/credentials/partner-api").status_code == 204
    assert api("GET", "/credentials/partner-api").status_code == 404
    assert api("GET", "/credentials").json()["items"] == []
    again = api("POST", "/credentials", json={  # a deleted name is free at once
        "name": "partner-api", "type": "httpBearerAuth", "data": {"token": SECRET}})
    assert again.status_code == 201, again.text
    assert api("DELETE", "/credentials/partner-api").status_code == 204


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/credentials", {"name": "x1", "type": "nope", "data": {}}, 400),
    ("POST", "/credentials", {"name": "x1", "type": "httpBasicAuth",
                              "data": {"user": "u", "password": "short"}}, 400),
    ("POST", "/credentials", {"name": "bad/name", "type": "httpBearerAuth",
                              "data": {"token": SECRET}}, 400),
    ("POST", "/credentials", {"name": "x" * 129, "type": "httpBearerAuth",
                              "data": {"token": SECRET}}, 400),
    ("POST", "/credentials", {"name": "x1", "type": "httpBearerAuth",
                              "data": {"token": SECRET, "extra": SECRET}}, 400),
    ("POST", "/credentials", ["not", "an", "object"], 400),
    ("PUT", "/credentials/missing1", {"data": {"token": SECRET}}, 404),
    ("GET", "/credentials/missing1", None, 404),
    ("DELETE", "/credentials/missing1", None, 404),
])
def test_bad_requests_are_json_4xx_without_the_value(
        api: ApiClient, method: str, path: str, body: object, status: int) -> None:
    answer = api(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert set(answer.json()["error"]) >= {"type", "message"}
    assert SECRET not in answer.text


def test_a_name_taken_is_a_conflict_and_a_type_is_kept(api: ApiClient) -> None:
    body = {"name": "db-main", "type": "postgres",
            "data": {"host": "db.internal", "database": "app", "user": "app",
                     "password": SECRET}}
    assert api("POST", "/credentials", json=body).status_code == 201
    taken = api("POST", "/credentials", json=body)
    assert taken.status_code == 409 and SECRET not in taken.text
    retyped = api("PUT", "/credentials/db-main", json={
        "type": "httpBearerAuth", "data": {"token": ROTATED}})
    assert retyped.status_code == 400 and "keeps its type" in retyped.json()["error"]["message"]
    described = api("GET", "/credentials/db-main").json()
    assert described["fields"] == {"host": "db.internal", "port": 5432, "database": "app",
                                   "user": "app", "ssl": "prefer"}
    assert api("DELETE", "/credentials/db-main").status_code == 204
