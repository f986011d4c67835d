"""Configuration from the environment: the only place that reads it."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    table_prefix: str = "sfnflow"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    payload_bucket: str | None = None
    inline_output_limit: int = 300_000  # bytes of run output kept in DynamoDB (item max 400 KB)
    # Outputs larger than this travel between states as S3 references, keeping every state
    # well under Step Functions' 256 KiB payload limit (a state may carry several outputs).
    inline_state_limit: int = 32_768
    retention_days: int = 30

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        return cls(
            table_prefix=env.get("SFNFLOW_TABLE_PREFIX", "sfnflow"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            dynamodb_endpoint=env.get("SFNFLOW_DYNAMODB_ENDPOINT") or None,
            payload_bucket=env.get("SFNFLOW_PAYLOAD_BUCKET") or None,
            inline_output_limit=int(env.get("SFNFLOW_INLINE_OUTPUT_LIMIT", "300000")),
            inline_state_limit=int(env.get("SFNFLOW_INLINE_STATE_LIMIT", "32768")),
            retention_days=int(env.get("SFNFLOW_RETENTION_DAYS", "30")),
        )
