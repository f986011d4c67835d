"""Outputs in API responses, kept under Lambda's 6 MB response limit.

A Lambda behind API Gateway answers at most 6,291,556 bytes (more is a 502), and node
outputs stored in S3 can be any size. So a response carries at most
``Config.response_inline_limit`` bytes of items (5 MB): what does not fit is answered with a
pre-signed S3 GET URL of the stored payload (valid ``URL_SECONDS``), or, for outputs kept in
the run record itself (each under 400 KB), left for the next page.

* ``node_runs_page``: ``GET /executions/{id}/nodes/{node}?offset=&limit=`` — the node's runs
  in order; a run whose stored output does not fit carries ``outputUrl`` and
  ``outputBytes`` instead of ``output``; ``nextOffset`` names the next page, if any.
* ``result_items``: the items of a finished execution (``?wait=true``, webhook
  ``lastNode``) — inline when they fit, else ``outputs``: one entry per sink port with its
  ``items``, or the ``url`` of its node's stored outputs (a JSON list of ports; this port is
  at index ``output``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from functions.store.repository import NodeRun, RunRepository

URL_SECONDS = 900  # a pre-signed URL is short-lived: long enough to fetch, not to share


def _bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def node_runs_page(repository: RunRepository, runs: list[NodeRun], offset: int, limit: int,
                   budget: int, summary: Callable[[NodeRun], dict[str, Any]]
                   ) -> dict[str, Any]:
    """One page of ``runs`` (read with ``stored_outputs=False``) with their outputs,
    at most ``budget`` bytes of them inline."""
    page: list[dict[str, Any]] = []
    used = 0
    next_offset: int | None = offset + limit if offset + limit < len(runs) else None
    for index, run in enumerate(runs[offset:offset + limit], start=offset):
        view = summary(run)
        if run.output_ref is not None:
            size = repository.payload_bytes(run.output_ref)
            if used + size > budget:
                view |= {"outputUrl": repository.payload_url(run.output_ref, URL_SECONDS),
                         "outputBytes": size}
            else:
                view["output"] = repository.load_payload(run.output_ref)
                used += size
        else:
            size = _bytes(run.output)
            if used + size > budget and page:
                next_offset = index  # the rest on the next page
                break
            view["output"] = run.output
            used += size
        page.append(view)
    return {"items": page, "nextOffset": next_offset}


def _stored_ports(output: Any) -> list[tuple[str, int, dict[str, Any]]]:
    """(sink, port index, port) of every sink port in an execution's output."""
    if not isinstance(output, dict):
        return []
    return [(str(sink), index, port)
            for sink, value in output.items() if isinstance(value, dict)
            for index, port in enumerate(value.get("ports") or []) if isinstance(port, dict)]


def result_items(repository: RunRepository, output: Any, budget: int) -> dict[str, Any]:
    """``{"items": [...]}`` (every sink's items, in order) when they fit in ``budget``
    bytes, else ``{"outputs": [...]}`` with a URL for each stored port."""
    ports = _stored_ports(output)
    refs = {port["ref"] for _, _, port in ports if "ref" in port and "items" not in port}
    sizes = {ref: repository.payload_bytes(ref) for ref in refs}
    if _bytes(output) + sum(sizes.values()) <= budget:
        loaded = {ref: repository.load_payload(ref) for ref in refs}
        return {"items": [
            item for _, index, port in ports
            for item in (loaded[port["ref"]][index] if port.get("ref") in loaded
                         else port.get("items") or [])]}
    outputs: list[dict[str, Any]] = []
    for sink, index, port in ports:
        entry: dict[str, Any] = {"node": sink, "output": index, "count": port.get("count")}
        if port.get("ref") in sizes:
            entry |= {"url": repository.payload_url(port["ref"], URL_SECONDS),
                      "bytes": sizes[port["ref"]]}
        else:
            entry["items"] = port.get("items") or []
        outputs.append(entry)
    return {"itemsTooLarge": True, "outputs": outputs}
