"""Parameters of the ``agent`` and ``tool`` nodes: a chat model, tools, JSON Schemas.

Import this module through ``compiler.nodetypes`` (which adds ``node_types()`` to
``NODE_TYPES``), never first: it builds on the catalogue's ``Params``.

One tool definition (``ToolDef``) serves both nodes: the ``tool`` node calls one, the
``agent`` node offers several to its model. A tool is an HTTP endpoint or a sub-workflow,
with a JSON Schema of its input (what the model is told and what every call is checked
against) and, optionally, of its output.

JSON Schemas are checked here, at compile time, with ``jsonschema`` (Draft 2020-12): a
schema that is itself invalid is a validation error naming the node and field, not a
surprise on the first model answer. The runner validates values with the same library
(``functions.ai.schemas``) — not with a pydantic model built from the schema, which
silently drops what pydantic cannot express ($ref, oneOf, patternProperties, formats).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from compiler.nodetypes import Expr, NodeType, Params

TOOL_NAME = r"^[A-Za-z0-9_-]{1,64}$"  # what OpenAI and Bedrock both accept as a tool name
WORKFLOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


def _valid_schema(schema: dict[str, Any]) -> dict[str, Any]:
    # imported here: the node runner's cold start reads the catalogue, not schemas
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(root)"
        raise ValueError(f"not a valid JSON Schema at {where}: {exc.message}") from None
    return schema


JsonSchema = Annotated[dict[str, Any], AfterValidator(_valid_schema)]


class HttpToolTarget(Params):
    url: str = Field(min_length=1, description="The endpoint; GET sends the input as query "
                     "parameters, other methods as a JSON body.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)


class ToolDef(Params):
    """A callable tool: exactly one of ``http`` and ``workflow``."""

    name: str = Field(pattern=TOOL_NAME)
    description: str = Field("", description="What the model reads to decide to call it.")
    http: HttpToolTarget | None = None
    workflow: str | None = Field(
        None, max_length=64, pattern=WORKFLOW_NAME,
        description="A deployed workflow run as a child execution with the input as its "
        "one item; its output items are the result.")
    inputSchema: JsonSchema = Field(
        default_factory=lambda: {"type": "object"},
        description="JSON Schema of the input (an object).")
    outputSchema: JsonSchema | None = Field(None, description="JSON Schema of the result.")
    timeoutSeconds: float = Field(30.0, gt=0, le=900)

    @model_validator(mode="after")
    def _one_target(self) -> ToolDef:
        if (self.http is None) == (self.workflow is None):
            raise ValueError(f"tool {self.name!r}: give exactly one of `http` and `workflow`")
        if self.inputSchema.get("type", "object") != "object":
            raise ValueError(f"tool {self.name!r}: inputSchema must describe an object")
        return self


class ChatModelRef(Params):
    """Which model answers: an OpenAI-compatible Chat Completions server, or Bedrock."""

    provider: Literal["openai", "bedrock"] = "openai"
    model: str = Field(min_length=1, description="The model id (Bedrock: a model or "
                       "inference profile id).")
    baseUrl: str | None = Field(
        None, description="openai: the server's base URL (.../v1); overrides the node's "
        "`openAiApi` credential's. Without a credential no API key is sent.")
    region: str | None = Field(None, description="bedrock: the region (default: the "
                               "runner's).")
    temperature: float | None = Field(None, ge=0, le=2)
    maxTokens: int | None = Field(None, ge=1)
    timeoutSeconds: float = Field(60.0, gt=0, le=900, description="Per model call.")
    maxRateLimitRetries: int = Field(
        3, ge=0, le=10, description="429s/5xx retried within the node (Retry-After "
        "honoured, bounded by the node's time), then Sfnflow.RateLimited.")


class AgentParams(Params):
    model: ChatModelRef
    systemPrompt: str = ""
    prompt: str = Field(min_length=1, description="The user prompt (an expression per item).")
    tools: list[ToolDef] = Field(default_factory=list)
    maxTurns: int = Field(8, ge=1, le=50, description="Model calls at most, per item.")
    answerSchema: JsonSchema | None = Field(
        None, description="JSON Schema the answer must match: the answer is parsed as "
        "JSON and validated; a bad answer is sent back with the error.")
    answerRetries: int = Field(2, ge=0, le=5, description="Bad answers sent back before "
                               "Sfnflow.AgentAnswerInvalid.")

    @model_validator(mode="after")
    def _distinct_tools(self) -> AgentParams:
        names = [tool.name for tool in self.tools]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"tool names repeat: {', '.join(repeated)}")
        return self


class ToolParams(Params):
    tool: ToolDef
    input: dict[str, Any] | Expr | None = Field(
        None, description="The tool's input object (default: the item).")
    retries: int = Field(0, ge=0, le=5, description="Retryable failures (timeout, 5xx, "
                         "429) retried within the node before the typed error.")


def node_types() -> list[NodeType]:
    return [
        NodeType("agent", AgentParams, "Asks a chat model (OpenAI-compatible or Bedrock) "
                 "once per item, letting it call tools (HTTP endpoints, sub-workflows) for "
                 "up to maxTurns turns; the item gets the answer, token usage and turns."),
        NodeType("tool", ToolParams, "Calls one tool (an HTTP endpoint or a sub-workflow) "
                 "per item, its input and output checked against JSON Schemas."),
    ]
