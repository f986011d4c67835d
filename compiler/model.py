"""The workflow document (JSON or YAML), as pydantic v2 models.

These models check the document's *shape*. Whether node types exist, parameters fit their
type, connections resolve and the graph is acyclic is the job of ``passes/validate.py``,
which reports every problem at once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from compiler.schedules import validate_timezone

NAME_MAX = 80  # Step Functions names (states, machines, executions, variables): at most 80.
HELPER_PREFIX = "#"  # helper states (guards, branch ends) start with this; nodes may not.
# Characters a state name may not hold: control characters (U+0000-001F, U+007F-009F), the
# line and paragraph separators (asl-validator's ``^.{1,80}$`` does not match across them),
# surrogates and the non-characters U+FFFE/FFFF (Step Functions' name rules).
_NOT_IN_STATE_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def name_length(name: str) -> int:
    """A name's length as Step Functions and asl-validator count it: in UTF-16 code units
    (Java and JavaScript strings), so a character beyond U+FFFF (an emoji) counts twice."""
    return len(name) + sum(1 for char in name if ord(char) > 0xFFFF)


def fit_name(name: str, limit: int = NAME_MAX) -> str:
    """The longest prefix of ``name`` at most ``limit`` UTF-16 code units long."""
    units = 0
    for index, char in enumerate(name):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return name[:index]
    return name


def state_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a state, or None (shared by node and region names)."""
    bad = _NOT_IN_STATE_NAMES.search(name)
    if bad is not None:
        return (f"may not contain the control character U+{ord(bad.group()):04X} (Step "
                "Functions state names may not; use a space)")
    if name_length(name) > NAME_MAX:
        return (f"is {name_length(name)} characters as Step Functions counts them (characters "
                f"beyond U+FFFF count twice); the limit is {NAME_MAX}")
    return None

OnError = Literal["stopWorkflow", "continueRegularOutput", "continueErrorOutput"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class RetryPolicy(_Strict):
    """Compiled to an ASL Retrier. ``errors`` are the ``errorType`` names that are retried."""

    maxAttempts: int = Field(3, ge=1, le=99, description="Total attempts, the first included.")
    intervalSeconds: int = Field(1, ge=1, le=99_999_999)
    backoffRate: float = Field(2.0, ge=1.0)
    maxDelaySeconds: int | None = Field(None, ge=1, le=31_622_400)
    jitter: bool = False
    errors: list[str] | None = Field(
        None,
        description="errorType names to retry; default: the retryable classes "
        "(timeouts, connection errors, HTTP 5xx and 429, Lambda throttling).",
    )


class CachePolicy(_Strict):
    """Opt-in result caching: the node does not run again when the same node version (type
    and parameters) saw the same input items within ``ttlSeconds``."""

    ttlSeconds: int = Field(ge=1, le=31_536_000, description="How long a result is reused "
                            "(at most a year).")


class CircuitBreakerPolicy(_Strict):
    """Stop calling a failing dependency: after ``failureThreshold`` failures within
    ``windowSeconds`` the node fails at once with ``Sfnflow.CircuitOpen`` for
    ``cooldownSeconds``; then one probe run decides whether it closes again. The state is
    shared by every execution (``functions.services.breakers``)."""

    failureThreshold: int = Field(5, ge=1, le=10_000)
    windowSeconds: float = Field(60, gt=0, le=86_400)
    cooldownSeconds: float = Field(30, gt=0, le=86_400)
    key: Literal["node", "host"] = Field(
        "node", description="Whose health is tracked: the node (workflow and node name), or "
        "for httpRequest the host of its literal url (shared by every node calling it).")


class RateLimitPolicy(_Strict):
    """A token bucket shared by every execution (``functions.services.rate_limits``): one
    token per run of the node, or per request for httpRequest (one call per item)."""

    perSecond: float = Field(gt=0, le=10_000)
    burst: int = Field(1, ge=1, le=10_000, description="Tokens the bucket holds when full.")
    onLimit: Literal["wait", "fail"] = Field(
        "wait", description="wait: until a token is free (bounded by maxWaitSeconds and the "
        "task's time left); fail: with Sfnflow.RateLimited (retryable).")
    maxWaitSeconds: float = Field(30, ge=0, le=900)


class CredentialRef(_Strict):
    """A named credential the node reads (``compiler.credentials``): its value never enters
    the workflow, the state machine or the run data; the node runner resolves it by name."""

    name: str = Field(description="The credential's name (POST /credentials).")
    type: str | None = Field(
        None, description="The credential type the node expects; default: the one it "
        "accepts, or any of them (httpRequest: whichever HTTP auth the credential is).")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        from compiler.credentials import name_problem

        problem = name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        return name


class Settings(_Strict):
    errorWorkflow: str | None = None
    executionOrder: Literal["v0", "v1"] | None = Field(
        None, description="n8n's execution order (n8n documents): v1 runs a node only when "
        "it is fed items; without it, n8n's legacy order (v0).")
    timezone: Annotated[str, AfterValidator(validate_timezone)] | None = Field(
        None, description="IANA time zone n8n expressions read dates in ($now, $today); "
        "default UTC.")
    timeoutSeconds: int | None = Field(None, ge=1, le=31_536_000)
    rendezvous: Literal["auto", "always", "never"] = Field(
        "auto", description="How non-series-parallel parts run. always: as they are, "
        "branches waiting for each other's nodes (as fast as the DAG allows, more state "
        "transitions and Lambda calls); never: cut into structured blocks (fewer transitions, "
        "may wait longer); auto: always where a node takes time (runs on the node runner, "
        "waits or runs a sub-workflow), never where every node is instant pure data.")
    fusion: bool = Field(
        False, description="true: run consecutive node-runner nodes of a chain (no fan-out or "
        "fan-in between them, no retry, timeout or onError routing) in one Task: one Lambda "
        "call and one state transition for the chain; every node keeps its own run record. "
        "false (for now the default): one Task per node.")
    maxConcurrency: int | None = Field(
        None, ge=1, description="At most this many executions of the workflow run at once; "
        "further starts wait QUEUED and are admitted later, by priority, never dropped.")
    priority: Literal["high", "normal", "low"] = Field(
        "normal", description="Who is admitted first when starts wait for a slot (a start "
        "may override it: X-Priority header or priority in the body); equal priorities "
        "first come, first served.")
    type: Literal["standard", "express", "auto"] = Field(
        "standard", description="The state machine's type. express: an Express state "
        "machine (billed per request and duration instead of per state transition; at most "
        "five minutes, no callbacks or long waits, no execution history, no idempotent "
        "starts), refused with the reason where the workflow needs Standard; auto: express "
        "where the workflow can be one, standard otherwise (compiler.express decides).")


class Node(_Strict):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    type: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    onError: OnError = "stopWorkflow"
    timeoutSeconds: int | None = Field(
        None, ge=1, le=31_536_000,
        description="Fail the node with States.Timeout after this long (Task TimeoutSeconds).")
    disabled: bool = False
    fuse: bool = Field(True, description="false: never run this node in the Task of the node "
                       "before or after it (with settings.fusion: true).")
    notes: str | None = None
    cache: CachePolicy | None = Field(
        None, description="Reuse the node's outputs for the same input within ttlSeconds "
        "(the node then runs on the node runner).")
    circuitBreaker: CircuitBreakerPolicy | None = Field(
        None, description="Fail fast with Sfnflow.CircuitOpen while the node's dependency "
        "keeps failing (the node then runs on the node runner).")
    rateLimit: RateLimitPolicy | None = Field(
        None, description="At most perSecond runs (httpRequest: requests), shared by every "
        "execution (the node then runs on the node runner).")
    typeVersion: float | None = Field(
        None, description="n8n node types: the version whose parameters and semantics apply.")
    alwaysOutputData: bool = Field(
        False, description="n8n: an empty output 0 becomes one empty item.")
    executeOnce: bool = Field(False, description="n8n: run on the first input item only.")
    editor: dict[str, Any] | None = Field(
        None, description="What only n8n's editor reads (id, position...), kept for export.")
    credentials: CredentialRef | None = Field(
        None, validate_default=True,  # a node type that needs one is refused without it
        description="The named credential the node authenticates with "
        "(compiler.credentials: which node types take which credential types).")

    @field_validator("cache")
    @classmethod
    def _cacheable(cls, cache: CachePolicy | None,
                   info: ValidationInfo) -> CachePolicy | None:
        from compiler.nodetypes import NODE_TYPES  # nodetypes is heavier; only when used

        node_type = NODE_TYPES.get(str(info.data.get("type")))
        if cache is not None and node_type is not None \
                and node_type.lowering not in ("task", "native"):
            raise ValueError(f"a {node_type.name} node cannot be cached: only nodes that run "
                             "on the node runner can")
        return cache

    @field_validator("circuitBreaker", "rateLimit")
    @classmethod
    def _guardable(cls, policy: _Strict | None, info: ValidationInfo) -> _Strict | None:
        from compiler.nodetypes import NODE_TYPES

        node_type = NODE_TYPES.get(str(info.data.get("type")))
        if policy is not None and node_type is not None \
                and node_type.lowering not in ("task", "native"):
            raise ValueError(f"a {node_type.name} node cannot have {info.field_name}: only "
                             "nodes that run on the node runner can")
        if isinstance(policy, CircuitBreakerPolicy) and policy.key == "host" \
                and info.data.get("type") != "httpRequest":
            raise ValueError("circuitBreaker key 'host' needs an httpRequest node")
        return policy

    @field_validator("credentials")
    @classmethod
    def _credential_accepted(cls, ref: CredentialRef | None,
                             info: ValidationInfo) -> CredentialRef | None:
        from compiler.credentials import CREDENTIAL_TYPES, REQUIRED, accepted_types

        node_type = str(info.data.get("type"))
        if ref is None:
            if node_type in REQUIRED:
                raise ValueError(f"a {node_type} node needs credentials: {{name}} of a "
                                 f"{' or '.join(accepted_types(node_type))} credential")
            return ref
        accepted = accepted_types(node_type)
        if not accepted:
            raise ValueError(f"a {node_type} node takes no credentials")
        if ref.type is not None and ref.type not in CREDENTIAL_TYPES:
            raise ValueError(f"unknown credential type {ref.type!r}; known: "
                             f"{', '.join(CREDENTIAL_TYPES)}")
        if ref.type is not None and ref.type not in accepted:
            raise ValueError(f"a {node_type} node takes credentials of type "
                             f"{', '.join(accepted)}, not {ref.type}")
        return ref

    @field_validator("name")
    @classmethod
    def _no_helper_prefix(cls, name: str) -> str:
        if name.startswith(HELPER_PREFIX):
            raise ValueError(f"node names may not start with {HELPER_PREFIX!r} (reserved)")
        if name != name.strip():
            raise ValueError("node names may not start or end with whitespace")
        if "{%" in name or "%}" in name:
            raise ValueError("node names may not contain '{%' or '%}' (expression delimiters)")
        problem = state_name_problem(name)
        if problem is not None:
            raise ValueError(f"a node name {problem}")
        return name


class Connection(_Strict):
    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)
    output: int | str = Field(0, description="Output port of `from`, by index or name.")
    input: int = Field(0, ge=0, description="Input port of `to`, by index.")

    @field_validator("output", mode="before")
    @classmethod
    def _bool_is_a_port_name(cls, output: object) -> object:
        """YAML reads ``output: true`` as a boolean: it means the IF output named "true"."""
        if isinstance(output, bool):
            return "true" if output else "false"
        return output


class Region(_Strict):
    """A try/catch/finally region: if any of ``nodes`` fails, ``catch`` runs with one error
    item; ``finally`` runs after the region (and the catch), whether it failed or not."""

    name: str = Field(min_length=1, max_length=60)
    nodes: list[str] = Field(min_length=1)
    catch: str = Field(min_length=1, description="Node that receives the error item.")
    finally_: str | None = Field(None, alias="finally",
                                 description="Node that always runs after the region.")

    @field_validator("name")
    @classmethod
    def _state_name(cls, name: str) -> str:
        """A region's name becomes part of its helper states' names."""
        problem = state_name_problem(name)
        if problem is not None:
            raise ValueError(f"a region name {problem}")
        return name


class Workflow(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    description: str | None = None
    settings: Settings = Field(default_factory=Settings)
    nodes: list[Node] = Field(min_length=1)
    connections: list[Connection] = Field(default_factory=list)
    pinData: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    regions: list[Region] = Field(default_factory=list,
                                  description="try/catch/finally regions (see README).")
    editor: dict[str, Any] | None = Field(
        None, description="What only n8n's editor reads (ids, sticky notes, meta), kept for "
        "export.")

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)
