"""The one small protocol every chat model speaks, and the conversation it reads.

The agent loop (``functions.ai.agent_loop``) knows nothing of a provider's wire format: it
keeps the conversation as ``Message`` values, hands them with the tools' specs to a
``ChatModel`` and gets a ``Reply``. Each client (``openai_chat``, ``bedrock``) maps these
to its API and back; the run record stores them as they are (``Message.to_dict``), so a
turn reads the same whichever model answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it (it may not be JSON at all)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # role "tool": the call this answers
    is_error: bool = False  # role "tool": the call failed (Bedrock's status "error")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["toolCalls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["toolCallId"] = self.tool_call_id
        if self.is_error:
            out["isError"] = True
        return out


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens,
                     self.output_tokens + other.output_tokens)

    def to_dict(self) -> dict[str, int]:
        return {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens,
                "totalTokens": self.input_tokens + self.output_tokens}


@dataclass(frozen=True)
class Reply:
    message: Message  # role "assistant"
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""
    rate_limit_waits: tuple[float, ...] = ()  # seconds slept on 429s before this reply


class ChatModel(Protocol):
    """``complete`` raises typed ``NodeError``s (rate limited, timeout, refused...)."""

    @property
    def name(self) -> str: ...

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply: ...
