"""The one price table: what each billed unit of an execution costs, per region.

Every figure is a list price in US dollars, free tiers ignored (they are per account and
month, not per execution), read on ``READ_ON`` from the pages in ``SOURCES``. A figure in
``UNCONFIRMED`` could not be confirmed on a page on that date and is the best known value
(the us-east-1 price where AWS usually charges the same); the breakdown of a cost names the
unconfirmed figures it used, so nobody takes an estimate for a quote.

Units, as AWS bills them:
- Step Functions Standard: per state transition (retries included).
- Step Functions Express: per request, and per GB-second of duration (rounded up to 100 ms,
  memory billed in 64 MB chunks; first tier).
- Lambda (arm64, the stack's architecture): per request, and per GB-second (first tier).
- DynamoDB on demand: per write request unit (1 KB) and read request unit (4 KB).
- S3 Standard: per PUT (and COPY, POST, LIST) request and per GET request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

READ_ON = "2026-12-03"
DEFAULT_REGION = "us-east-1"  # functions.config's default: the stack's region when unset

SOURCES = {
    "stepFunctions": "https://aws.amazon.com/step-functions/pricing/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "s3": "https://aws.amazon.com/s3/pricing/",
}


@dataclass(frozen=True)
class Prices:
    """US dollars per single unit (not per thousand or million: no scaling at use)."""

    state_transition: float
    express_request: float
    express_gb_second: float
    lambda_request: float
    lambda_gb_second: float  # arm64
    dynamodb_write_unit: float
    dynamodb_read_unit: float
    s3_put: float
    s3_get: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


_US_EAST_1 = Prices(
    state_transition=0.025 / 1000,
    express_request=1.00 / 1_000_000,
    express_gb_second=0.00001667,
    lambda_request=0.20 / 1_000_000,
    lambda_gb_second=0.0000133334,
    dynamodb_write_unit=0.625 / 1_000_000,
    dynamodb_read_unit=0.125 / 1_000_000,
    s3_put=0.005 / 1000,
    s3_get=0.0004 / 1000,
)

PRICES: dict[str, Prices] = {
    "us-east-1": _US_EAST_1,
    "eu-west-1": Prices(
        state_transition=0.025 / 1000,
        express_request=1.00 / 1_000_000,
        express_gb_second=0.00001667,
        lambda_request=0.20 / 1_000_000,
        lambda_gb_second=0.0000133334,
        dynamodb_write_unit=0.705 / 1_000_000,
        dynamodb_read_unit=0.141 / 1_000_000,
        s3_put=0.005 / 1000,
        s3_get=0.0004 / 1000,
    ),
    "eu-central-1": Prices(
        state_transition=0.025 / 1000,
        express_request=1.00 / 1_000_000,
        express_gb_second=0.00001667,
        lambda_request=0.20 / 1_000_000,
        lambda_gb_second=0.0000133334,
        dynamodb_write_unit=0.7625 / 1_000_000,
        dynamodb_read_unit=0.1525 / 1_000_000,
        s3_put=0.0054 / 1000,
        s3_get=0.00043 / 1000,
    ),
}

# (region, field) pairs read from a secondary page or carried over from us-east-1: the
# Step Functions regional table confirmed the state-transition price of all three
# regions; the other us-east-1 figures were read from pages quoting AWS's tables.
UNCONFIRMED: frozenset[tuple[str, str]] = frozenset(
    {(region, name) for region in ("eu-west-1", "eu-central-1")
     for name in ("express_request", "express_gb_second", "lambda_request",
                  "lambda_gb_second", "dynamodb_write_unit", "dynamodb_read_unit",
                  "s3_put", "s3_get")}
    | {("us-east-1", "s3_put"), ("us-east-1", "s3_get")})


def prices_for(region: str) -> tuple[str, Prices]:
    """The region priced and its prices: a region not in the table is priced as the
    default region (the breakdown says which region it used)."""
    if region in PRICES:
        return region, PRICES[region]
    return DEFAULT_REGION, PRICES[DEFAULT_REGION]


def describe(region: str) -> dict[str, Any]:
    """The price table entry as the cost breakdown shows it."""
    priced, prices = prices_for(region)
    return {
        "region": priced,
        "readOn": READ_ON,
        "sources": SOURCES,
        "perUnit": prices.to_dict(),
        "unconfirmed": sorted(name for r, name in UNCONFIRMED if r == priced),
    }


# ------------------------------------------------------------------ model tokens

#: Model tokens (the agent node's calls), US dollars per 1M tokens (input, output), on-demand,
#: read on ``READ_ON``. Keys are model ids without the provider prefix; a Bedrock id matches
#: by prefix (its version suffix and a cross-Region profile prefix such as ``us.`` ignored).
#: None of these could be confirmed on the vendors' own price pages on that date (AWS's
#: Bedrock page did not show its table to the search, OpenAI's was not found): they are
#: the figures several pages quoting those tables agree on, and every bill that uses them
#: says so (``MODEL_UNCONFIRMED``). Anthropic's older Claude 3.5 Sonnet is quoted both at
#: 3/15 and at 6/30 on Bedrock: 3/15 is used.
MODEL_SOURCES = {
    "bedrock": "https://aws.amazon.com/bedrock/pricing/",
    "openai": "OpenAI's API pricing page (platform docs, 'pricing')",
}
MODEL_PRICES: dict[str, tuple[float, float]] = {
    # OpenAI (Chat Completions)
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    # Amazon Bedrock (us-east-1, on-demand)
    "anthropic.claude-3-haiku": (0.25, 1.25),
    "anthropic.claude-3-5-haiku": (0.80, 4.00),
    "anthropic.claude-3-5-sonnet": (3.00, 15.00),
    "anthropic.claude-3-7-sonnet": (3.00, 15.00),
    "amazon.nova-micro": (0.035, 0.14),
    "amazon.nova-lite": (0.06, 0.24),
    "amazon.nova-pro": (0.80, 3.20),
}
MODEL_UNCONFIRMED: frozenset[str] = frozenset(MODEL_PRICES)
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")


def model_key(model: str) -> str | None:
    """The ``MODEL_PRICES`` key of a model as the agent names it (``provider:model id``);
    None for a model not in the table. The longest matching key wins (``gpt-4o-mini``
    before ``gpt-4o``)."""
    name = model.split(":", 1)[1] if ":" in model.split(".", 1)[0] else model
    for prefix in _PROFILE_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    matches = [key for key in MODEL_PRICES if name == key or name.startswith(key + "-")
               or name.startswith(key + ":")]
    return max(matches, key=len) if matches else None


def model_cost(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """US dollars of ``model``'s tokens; None when the model is not in the table."""
    key = model_key(model)
    if key is None:
        return None
    per_input, per_output = MODEL_PRICES[key]
    return (input_tokens * per_input + output_tokens * per_output) / 1_000_000
