"""An execution's usage priced: the cost breakdown stored, served and printed.

The breakdown is plain JSON (it is stored as is and returned by the API):
``{"total", "currency", "type", "components": {stepFunctions, lambda, dynamodb, s3, model},
"usage": {...}, "nodes": {name: {..., "cost"}}, "express": {...}, "prices": {...},
"estimated": [...]}``. A node's cost is what its own states, runs and run data cost; the
execution's own records (``executionWrites``) belong to no node, so the nodes add up to
the total less those.

``express`` says what the same run would cost as an Express execution (one request, its
duration rounded up to 100 ms, at 64 MB — the smallest chunk, as ``sfnflow plan``
assumes) and whether it could be one (no waits, at most 5 minutes).

``model`` is what the agent nodes' model calls cost, per node under ``modelTokens`` (model
-> tokens, calls, cost) at ``functions.costs.prices.MODEL_PRICES``; a model not in that
table is counted in tokens, priced 0, and named under ``notes``.
"""

from __future__ import annotations

import math
from typing import Any

from functions.costs.prices import (
    MODEL_SOURCES,
    MODEL_UNCONFIRMED,
    describe,
    model_cost,
    model_key,
    prices_for,
)
from functions.costs.usage import NodeUsage, Usage

EXPRESS_MEMORY_GB = 64 / 1024
EXPRESS_ROUNDING_SECONDS = 0.1
EXPRESS_MAX_SECONDS = 300


def _round(value: float) -> float:
    """Nine significant digits: a cost of one run is often millionths of a dollar."""
    return float(f"{value:.9g}")


def express_seconds(seconds: float) -> float:
    return math.ceil(round(seconds / EXPRESS_ROUNDING_SECONDS, 6)) * EXPRESS_ROUNDING_SECONDS


def _node_cost(node: NodeUsage, region: str) -> dict[str, float]:
    _, p = prices_for(region)
    return {
        "stepFunctions": node.transitions * p.state_transition,
        "lambda": node.lambda_requests * p.lambda_request
        + node.lambda_gb_seconds * p.lambda_gb_second,
        "dynamodb": node.write_units * p.dynamodb_write_unit,
        "s3": node.s3_puts * p.s3_put + node.s3_gets * p.s3_get,
        "model": sum(_model_cost(model, counts) or 0.0
                     for model, counts in node.model_tokens.items()),
    }


def _model_cost(model: str, counts: dict[str, int]) -> float | None:
    return model_cost(model, int(counts.get("inputTokens", 0)),
                      int(counts.get("outputTokens", 0)))


def _model_tokens(node: NodeUsage) -> dict[str, Any]:
    """A node's model calls as the breakdown shows them: per model its counts and cost."""
    return {model: dict(counts) | {"cost": _round(_model_cost(model, counts) or 0.0)}
            for model, counts in sorted(node.model_tokens.items())}


def _model_notes(usage: Usage) -> list[str]:
    """What the bill should say about the model prices it used (or could not)."""
    notes = []
    for model in sorted(usage.model_tokens):
        key = model_key(model)
        if key is None:
            notes.append(f"model {model}: no price known; its tokens are counted and "
                         "priced 0")
        elif key in MODEL_UNCONFIRMED:
            notes.append(f"model {model}: priced as {key}, a figure not confirmed on the "
                         "vendor's own page")
    return notes


def price(usage: Usage, region: str) -> dict[str, Any]:
    """The breakdown of ``usage`` at ``region``'s prices (see the module docstring)."""
    _, p = prices_for(region)
    nodes: dict[str, Any] = {}
    components = {"stepFunctions": 0.0, "lambda": 0.0, "dynamodb": 0.0, "s3": 0.0,
                  "model": 0.0}
    for name in sorted(usage.nodes):
        node = usage.nodes[name]
        cost = _node_cost(node, region)
        for key, value in cost.items():
            components[key] += value
        nodes[name] = {
            "stateTransitions": node.transitions,
            "lambdaRequests": node.lambda_requests,
            "lambdaGbSeconds": _round(node.lambda_gb_seconds),
            "dynamodbWriteUnits": node.write_units,
            "s3Puts": node.s3_puts,
            "s3Gets": node.s3_gets,
            "cost": _round(sum(cost.values())),
        }
        if node.model_tokens:
            nodes[name]["modelTokens"] = _model_tokens(node)
    components["dynamodb"] += usage.execution_write_units * p.dynamodb_write_unit
    billed = express_seconds(usage.seconds)
    express_sfn = p.express_request + billed * EXPRESS_MEMORY_GB * p.express_gb_second
    possible = not usage.has_waits and usage.seconds <= EXPRESS_MAX_SECONDS
    return {
        "total": _round(sum(components.values())),
        "currency": "USD",
        "type": "STANDARD",
        "components": {key: _round(value) for key, value in components.items()},
        "usage": {
            "stateTransitions": usage.transitions,
            "lambdaRequests": usage.lambda_requests,
            "lambdaGbSeconds": _round(usage.lambda_gb_seconds),
            "dynamodbWriteUnits": usage.write_units,
            "executionWrites": usage.execution_write_units,
            "s3Puts": usage.s3_puts,
            "s3Gets": usage.s3_gets,
            "seconds": round(usage.seconds, 3),
            "hasWaits": usage.has_waits,
            "modelTokens": usage.model_tokens,
        },
        "nodes": nodes,
        "express": {
            "possible": possible,
            "billedSeconds": round(billed, 3),
            "stepFunctions": _round(express_sfn),
            "total": _round(sum(components.values()) - components["stepFunctions"]
                            + express_sfn),
        },
        "prices": describe(region) | {"modelSources": MODEL_SOURCES},
        "notes": _model_notes(usage),
        "estimated": list(usage.estimated),
    }
