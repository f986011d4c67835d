"""Which credentials a node may name: the credential types sfnflow knows and, per node
type, the types it accepts (``Node.credentials``).

The compiler makes no AWS calls, so it cannot see what is stored; what it can check is the
shape: a node type that takes no credential names none, and a stated ``type`` is one the
node accepts. That a named credential exists (and has that type) is checked when the
workflow is deployed, and again when the node resolves it (``functions.credentials``).

A node type that reads a credential adds one line to ``NODE_CREDENTIALS``.
"""

from __future__ import annotations

import re

HTTP_AUTH_TYPES = ("httpHeaderAuth", "httpBearerAuth", "httpBasicAuth", "httpQueryAuth")

CREDENTIAL_TYPES: tuple[str, ...] = (*HTTP_AUTH_TYPES, "openAiApi", "postgres",
                                     "awsAssumeRole")
"""Every credential type (``functions.credentials.types`` has one model per name)."""

NODE_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "httpRequest": HTTP_AUTH_TYPES,
    "n8n-nodes-base.httpRequest": HTTP_AUTH_TYPES,  # genericCredentialType (compiler.n8n)
    "postgres": ("postgres",),
    "agent": ("openAiApi",),
}
"""Node type -> the credential types its ``credentials`` may have."""

REQUIRED: frozenset[str] = frozenset({"postgres"})
"""Node types that cannot run without a credential: refused at compile time without one
(an agent may call a model that needs no key; an HTTP request, an open endpoint)."""


def accepted_types(node_type: str) -> tuple[str, ...]:
    """The credential types ``node_type`` accepts (none: it takes no credential)."""
    return NODE_CREDENTIALS.get(node_type, ())


NAME_PATTERN = r"^[A-Za-z0-9_+=.@-]{1,128}$"
"""A credential's name: Secrets Manager's name characters (ASCII letters, digits and
``/_+=.@-``) without ``/``, so a name is one segment under the stage's prefix and listing
by prefix cannot reach into another's path; at most 128, well inside the 512 of the whole
secret name."""


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a credential name, or None.

    Secrets Manager appends ``-`` and six random characters to a secret's name in its ARN
    and warns that a name itself ending in a hyphen and six characters is taken for a
    complete ARN when used as a *partial* ARN. sfnflow addresses secrets by name only
    (never by partial ARN), and IAM patterns name ``<name>-??????``, so such names (like
    ``partner-header``) are fine here.
    """
    if not re.match(NAME_PATTERN, name):
        return (f"credential name {name!r}: use 1-128 ASCII letters, digits or _+=.@- "
                "(no '/')")
    return None


def from_n8n(block: object, auth_type: str | None = None) -> tuple[dict[str, str] | None,
                                                                    str | None]:
    """An n8n node's ``credentials`` block (``{"httpHeaderAuth": {"id": .., "name": ..}}``)
    as sfnflow's ``Node.credentials`` (``{"name", "type"}``), or the problem with it.

    n8n keys the block by credential type and its HTTP Request reads the entry named by
    ``genericAuthType`` (``auth_type``); sfnflow keeps the credential's *name* (n8n's ids
    are its own database's). An n8n name that Secrets Manager cannot hold (spaces are
    common: "Header Auth account") is a problem asking for a rename, not a silent
    rewrite that would name a different secret. For the importer (``compiler.n8n``).
    """
    if not isinstance(block, dict) or not block:
        return None, None
    if auth_type is not None:
        entry, kind = block.get(auth_type), auth_type
    elif len(block) == 1:
        kind, entry = next(iter(block.items()))
    else:
        return None, f"several credentials ({', '.join(map(str, block))}): name one"
    if kind not in CREDENTIAL_TYPES:
        return None, f"credential type {kind!r} is not one sfnflow stores"
    name = entry.get("name") if isinstance(entry, dict) else None
    if not isinstance(name, str):
        return None, f"the {kind} credential has no name"
    problem = name_problem(name)
    if problem is not None:
        return None, f"{problem}; rename the credential in n8n or create it in sfnflow " \
            "under such a name"
    return {"name": name, "type": str(kind)}, None
