"""Deploy-time check of the credentials a workflow names: every one must exist, with a type
its node accepts. Problems, not a first error: a deploy lists every missing credential at
once (``WorkflowInvalid``: 400 from the API, exit 2 from the CLI), each naming the node and
field, as validation does.

The compiler cannot make this check (it makes no AWS calls); the node runner makes it again
when the node runs (a credential deleted after the deploy fails that node, typed).
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler.credentials import accepted_types
from compiler.errors import Problem
from compiler.model import Node
from functions.credentials.errors import CredentialNotFound
from functions.credentials.store import CredentialStore


def credential_problems(nodes: Iterable[Node], store: CredentialStore) -> list[Problem]:
    """What is wrong with the credentials ``nodes`` name, looked up in ``store`` (one
    DescribeSecret per distinct name)."""
    types: dict[str, str | None] = {}
    problems: list[Problem] = []
    for node in nodes:
        ref = node.credentials
        if ref is None:
            continue
        if ref.name not in types:
            try:
                types[ref.name] = store.describe(ref.name)["type"]
            except CredentialNotFound:
                types[ref.name] = None
        stored = types[ref.name]
        wanted = (ref.type,) if ref.type else accepted_types(node.type)
        if stored is None:
            problems.append(Problem(node.name, "credentials.name",
                                    f"credential {ref.name!r} does not exist (create it "
                                    "first: POST /credentials)", "credential_missing"))
        elif wanted and stored not in wanted:
            problems.append(Problem(node.name, "credentials",
                                    f"credential {ref.name!r} is {stored}; this node takes "
                                    f"{', '.join(wanted)}", "credential_type"))
    return problems
