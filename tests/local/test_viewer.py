"""The execution viewer (``functions.api.viewer``) in a real headless Chromium, against
``sfnflow serve``'s platform: what a person sees — the workflow list and filtered
executions, node colours and counts, an error message, a live update, the approve button
resuming a paused execution. One platform and one browser for the module.

Chromium is Debian's (``apt-get install -y chromium``; ``.ci/run`` installs it), driven by
Playwright for Python with ``executable_path``: Playwright's own browser download is not
needed.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from compiler import load_file
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support.api_client import ApiClient

KEY = "viewer-key"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GREEN, RED, AMBER, GREY = "#a5d6a7", "#ef9a9a", "#ffe082", "#eeeeee"  # viewer.js COLOURS
BREAKS = {
    "name": "breaks",
    "nodes": [{"name": "Start", "type": "manualTrigger"},
              {"name": "Reserve", "type": "code",
               "parameters": {"code": "raise ValueError('no stock for sku 42')"}}],
    "connections": [{"from": "Start", "to": "Reserve"}],
}


class Api(ApiClient):
    key = KEY

    def start(self, workflow: str, user_input: Any) -> str:
        response = self("POST", f"/workflows/{workflow}/executions", json={"input": user_input})
        assert response.status_code == 202, response.text
        return str(response.json()["executionId"])

    def until(self, execution_id: str, *statuses: str, seconds: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            body: dict[str, Any] = self("GET", f"/executions/{execution_id}").json()
            if body["status"] in statuses or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    def paused(self, execution_id: str, seconds: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            waits = self("GET", f"/executions/{execution_id}/waits").json()["items"]
            if any(wait["status"] == "waiting" for wait in waits):
                return dict(waits[0])
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} never paused")


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        api = Api(local_platform.url)
        for document in (load_file(EXAMPLES / "approval-flow.yaml"), BREAKS):
            response = api("POST", "/workflows", json=document)
            assert response.status_code == 201, response.text
        yield local_platform


@pytest.fixture(scope="module")
def api(platform: LocalPlatform) -> Api:
    return Api(platform.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed: `apt-get install -y chromium` (Debian; "
                    ".ci/run does it on a fresh CI machine as root)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is a dev dependency: pip install -e .[dev]")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable,
                                          args=["--no-sandbox", "--headless=new"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page that already holds the key (as after typing it once in this tab)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(f"sessionStorage.setItem('sfnflow.apiKey', {KEY!r})")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def fill(page: Any, node: str) -> str:
    return str(page.get_attribute(f'rect[data-node="{node}"]', "fill"))


def runs_label(page: Any, node: str) -> str:
    return str(page.text_content(f'text[data-node-runs="{node}"]') or "")


# ------------------------------------------------------------------ the routes themselves


def test_the_page_is_public_and_the_data_needs_the_key(platform: LocalPlatform) -> None:
    page = requests.get(platform.url + "/viewer", timeout=10)
    script = requests.get(platform.url + "/viewer/viewer.js", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert requests.get(platform.url + "/viewer/secrets.py", timeout=10).status_code == 404
    graph = requests.get(platform.url + "/workflows/approval-flow/graph", timeout=10)
    assert graph.status_code == 401
    keyed = Api(platform.url)("GET", "/workflows/approval-flow/graph")
    assert keyed.status_code == 200 and keyed.headers["content-type"] == "image/svg+xml"
    assert 'data-node="Approve expense"' in keyed.text
    older = Api(platform.url)("GET", "/workflows/approval-flow/graph?version=9")
    assert older.status_code == 404 and "no version 9" in older.json()["error"]["message"]


# ------------------------------------------------------------------ in the browser


def test_the_key_once_then_workflows_and_filtered_executions(
        platform: LocalPlatform, api: Api, browser: Any) -> None:
    booked = api.start("approval-flow", {"amount": 20})
    failed = api.start("breaks", {})
    api.until(booked, "SUCCEEDED")
    api.until(failed, "FAILED")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(platform.url + "/viewer")
        page.fill("#key", KEY)
        page.click("#key-form button[type=submit]")
        page.click("a:text-is('breaks')")
        page.wait_for_selector(f"#executions a:text-is('{failed}')")
        page.goto(platform.url + "/viewer#/workflows/approval-flow")  # the key is kept
        page.wait_for_selector(f"#executions a:text-is('{booked}')")
        page.select_option("select[name=status]", "FAILED")
        page.click("form.filters button")
        page.wait_for_selector('#executions[data-status="FAILED"]')
        assert "status=FAILED" in page.evaluate("location.hash")
        assert page.locator(f"#executions a:text-is('{booked}')").count() == 0
        page.select_option("select[name=status]", "SUCCEEDED")
        page.click("form.filters button")
        page.wait_for_selector(f'#executions[data-status="SUCCEEDED"] a:text-is("{booked}")')
    finally:
        context.close()


def test_a_finished_execution_colours_its_nodes_and_counts_their_runs(
        platform: LocalPlatform, api: Api, page: Any) -> None:
    execution = api.start("approval-flow", {"amount": 30})
    api.until(execution, "SUCCEEDED")
    page.goto(f"{platform.url}/viewer#/executions/{execution}")
    page.wait_for_selector('rect[data-node="Book"][data-status="success"]')
    assert [fill(page, n) for n in ("Start", "Over the limit?", "Book")] == [GREEN] * 3
    assert fill(page, "Approve expense") == GREY and fill(page, "Tell submitter") == GREY
    assert re.fullmatch(r"1 run · \d+ ms · 1→1 items", runs_label(page, "Book"))
    assert runs_label(page, "Approve expense") == ""
    assert page.text_content("#summary .badge") == "SUCCEEDED"
    page.click('rect[data-node="Book"]')
    page.wait_for_selector("#panel .run")
    assert '"status": "booked"' in page.text_content("#panel pre")


def test_a_failed_execution_shows_its_error_and_what_is_not_available(
        platform: LocalPlatform, api: Api, page: Any) -> None:
    execution = api.start("breaks", {"sku": 42})
    api.until(execution, "FAILED")
    # Cost, logs and stats are other routes' (issue 13): absent, the page says so.
    page.route(re.compile(r".*/executions/[^/]+/(cost|logs)$"),
               lambda route: route.fulfill(status=404, json={"error": {"type": "NotFound"}}))
    page.goto(f"{platform.url}/viewer#/executions/{execution}")
    page.wait_for_selector('rect[data-node="Reserve"][data-status="error"]')
    assert fill(page, "Reserve") == RED and fill(page, "Start") == GREEN
    assert "no stock for sku 42" in page.text_content("#execution-error")
    assert page.text_content("#cost") == "Cost: not available"
    assert page.text_content("#logs") == "Logs: not available"
    assert page.locator("button:text-is('Retry from failure')").count() == 1
    page.click('rect[data-node="Reserve"]')
    page.wait_for_selector("#panel .error-text")
    assert "no stock for sku 42" in page.text_content("#panel .error-text")
    page.click("#panel button:text-is('Input 0 from Start')")  # the items it failed on
    page.wait_for_selector("#panel .items:has-text('Input from Start')")
    assert '"sku": 42' in page.text_content("#panel .items:has-text('Input from Start') pre")
    page.click("button:text-is('Retry from failure')")  # a new execution, opened at once
    page.wait_for_selector("#summary:has-text('retry of')")
    assert execution not in page.evaluate("location.hash")


def test_approve_button_resumes_a_paused_execution(
        platform: LocalPlatform, api: Api, page: Any) -> None:
    execution = api.start("approval-flow", {"amount": 250})
    api.paused(execution)
    page.goto(f"{platform.url}/viewer#/executions/{execution}")
    page.wait_for_selector('rect[data-node="Approve expense"][data-status="waiting"]')
    assert fill(page, "Approve expense") == AMBER and fill(page, "Book") == GREY
    # the IF before it is a native Choice: its run is recorded when the execution ends
    assert page.get_attribute('rect[data-node="Over the limit?"]', "data-status") == "passed"
    page.click("button:text-is('Approve (Approve expense)')")
    page.wait_for_selector('rect[data-node="Book"][data-status="success"]')
    assert api.until(execution, "SUCCEEDED")["status"] == "SUCCEEDED"
    page.wait_for_selector("#summary .badge:text-is('SUCCEEDED')")
    assert fill(page, "Approve expense") == GREEN


def test_a_live_update_arrives_without_a_reload(
        platform: LocalPlatform, api: Api, page: Any) -> None:
    """A decision taken elsewhere (here: the API) reaches the open page through the live
    progress stream (Server-Sent Events under ``sfnflow serve``)."""
    execution = api.start("approval-flow", {"amount": 500})
    wait = api.paused(execution)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    with page.expect_request(lambda request: "/stream?token=" in request.url) as opened:
        page.goto(f"{platform.url}/viewer#/executions/{execution}")
    assert f"/executions/{execution}/stream" in opened.value.url
    page.wait_for_selector('rect[data-node="Approve expense"][data-status="waiting"]')
    loads = len(navigations)
    rejected = api("POST", f"/executions/{execution}/reject/{wait['waitId']}",
                   json={"reason": "too much"})
    assert rejected.status_code == 200, rejected.text
    page.wait_for_selector('rect[data-node="Tell submitter"][data-status="success"]')
    assert fill(page, "Book") == GREY
    assert len(navigations) == loads  # no reload: the stream brought it
