"""The chat model a node's ``model`` parameters name, built with the node's clients.

OpenAI-compatible servers get the base URL and API key of the node's ``openAiApi``
credential (``baseUrl`` in the parameters overrides the URL; without a credential no key is
sent, as local servers such as vLLM or Ollama expect). Bedrock gets a ``bedrock-runtime``
client with botocore's own retries off, so that one policy (``functions.ai.retries``)
decides how long a throttled node waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from functions.ai.bedrock import BedrockChat
from functions.ai.chat import ChatModel
from functions.ai.openai_chat import OpenAIChat
from functions.errors import ParameterError


def _secret(value: Any) -> str | None:
    reveal = getattr(value, "get_secret_value", None)
    return reveal() if callable(reveal) else value


def chat_model(ref: Any, *, credential: Any = None, session: Any = None,
               bedrock_client: Any = None, sleep: Callable[[float], None] = time.sleep,
               seconds_left: Callable[[], float | None] = lambda: None) -> ChatModel:
    """``ref``: ``compiler.ai_params.ChatModelRef``; ``credential``: the node's resolved
    ``openAiApi`` credential (or None)."""
    if ref.provider == "bedrock":
        return BedrockChat(bedrock_client or _bedrock_client(ref), model=ref.model,
                           temperature=ref.temperature, max_tokens=ref.maxTokens,
                           retries=ref.maxRateLimitRetries, sleep=sleep,
                           seconds_left=seconds_left)
    base_url = ref.baseUrl or getattr(credential, "baseUrl", None)
    if not base_url:
        raise ParameterError("an openai model needs `model.baseUrl` or an openAiApi "
                             "credential on the node")
    return OpenAIChat(base_url=base_url, model=ref.model,
                      api_key=_secret(getattr(credential, "apiKey", None)), session=session,
                      timeout=ref.timeoutSeconds, temperature=ref.temperature,
                      max_tokens=ref.maxTokens, retries=ref.maxRateLimitRetries,
                      sleep=sleep, seconds_left=seconds_left)


def _bedrock_client(ref: Any) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    from functions.config import Config

    return boto3.client(
        "bedrock-runtime", region_name=ref.region or Config.from_env().region,
        config=BotoConfig(read_timeout=ref.timeoutSeconds, connect_timeout=10,
                          retries={"max_attempts": 1, "mode": "standard"}))
