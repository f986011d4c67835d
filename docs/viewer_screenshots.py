"""Screenshots of the execution viewer for the README: ``docs/viewer-*.png``.

Runs ``sfnflow serve``'s platform, deploys three examples, runs them (one finished, one
failed, one paused for approval) and photographs the viewer in Debian's chromium (as
``tests/local/test_viewer.py`` drives it)::

    .venv/bin/python docs/viewer_screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import requests

from compiler import load_file
from local.serve import LocalPlatform

ROOT = Path(__file__).resolve().parents[1]
KEY = "screenshots"
TIME_SCALE = 0.01
FAILING = {
    "name": "reserve-stock",
    "nodes": [{"name": "Start", "type": "manualTrigger"},
              {"name": "Reserve", "type": "code",
               "parameters": {"code": "raise ValueError('no stock for sku 42')"}},
              {"name": "Confirm", "type": "noOp"}],
    "connections": [{"from": "Start", "to": "Reserve"}, {"from": "Reserve", "to": "Confirm"}],
}


def _until(session: requests.Session, url: str, execution: str, *statuses: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if session.get(f"{url}/executions/{execution}", timeout=10).json()["status"] in statuses:
            time.sleep(0.5)  # native nodes' runs are recorded right after the final status
            return
        time.sleep(0.05)
    raise RuntimeError(f"execution {execution} never reached {statuses}")


def _start(session: requests.Session, url: str, workflow: str, data: Any) -> str:
    response = session.post(f"{url}/workflows/{workflow}/executions", json={"input": data},
                            timeout=10)
    response.raise_for_status()
    return str(response.json()["executionId"])


def main() -> int:
    executable = shutil.which("chromium")
    if executable is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        url = platform.url
        session = requests.Session()
        session.headers["x-api-key"] = KEY
        for document in (load_file(ROOT / "examples/orders.yaml"),
                         load_file(ROOT / "examples/approval-flow.yaml"), FAILING):
            session.post(f"{url}/workflows", json=document, timeout=30).raise_for_status()
        orders = _start(session, url, "orders", {})
        failed = _start(session, url, "reserve-stock", {})
        _until(session, url, orders, "SUCCEEDED")
        _until(session, url, failed, "FAILED")
        for amount in (20, 75):
            _until(session, url, _start(session, url, "approval-flow", {"amount": amount}),
                   "SUCCEEDED")
        paused = _start(session, url, "approval-flow", {"amount": 320})
        _until(session, url, paused, "WAITING")

        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--headless=new"])
            context = browser.new_context(viewport={"width": 1200, "height": 640},
                                          device_scale_factor=1)
            context.add_init_script(f"sessionStorage.setItem('sfnflow.apiKey', {KEY!r})")
            page = context.new_page()

            def shot(hash_: str, ready: str, name: str, click: str | None = None) -> None:
                page.goto(f"{url}/viewer#{hash_}")
                page.wait_for_selector(ready)
                if click:
                    page.click(click)
                    page.wait_for_selector("#panel .run")
                page.wait_for_timeout(300)
                target = ROOT / "docs" / f"viewer-{name}.png"
                page.screenshot(path=str(target))
                print(f"wrote {target.relative_to(ROOT)}")

            shot("/workflows/approval-flow", "#executions", "executions")
            shot(f"/executions/{orders}", 'rect[data-node="Sort"][data-status="success"]',
                 "execution", click='rect[data-node="Priority"]')
            shot(f"/executions/{failed}", 'rect[data-status="error"]', "failed",
                 click='rect[data-node="Reserve"]')
            shot(f"/executions/{paused}", 'rect[data-status="waiting"]', "approval")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
