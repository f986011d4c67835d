"""Every name the stage decides, in one place, so the stack and the runtime agree.

Tables are ``<prefix>-<suffix>`` (``functions.store.models.bind_tables`` with
``SFNFLOW_TABLE_PREFIX=<prefix>``); workflow ``w`` runs as state machine
``<prefix>-w`` (``SFNFLOW_STATE_MACHINE_PREFIX=<prefix>-``), and the roles the platform
hands to AWS services may act on exactly those machines.

A stage is letters and digits only: every name and wildcard of stage ``s`` starts with
``sfnflow-s-``, and since no stage contains ``-``, no other stage's names start with it
(with ``-`` allowed, ``sfnflow-dev-*`` would also match stage ``dev-alice``'s machines,
rules and executions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack

_STAGE = re.compile(r"^[a-z][a-z0-9]{0,19}$")


@dataclass(frozen=True)
class Naming:
    stage: str

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ValueError(f"stage {self.stage!r}: use 1-20 lowercase letters or digits, "
                             "starting with a letter (no '-': the stage ends every name "
                             "prefix, so 'dev' must not be a prefix of another stage's names)")

    @property
    def prefix(self) -> str:
        """Tables, the event bus, the schedule group, the API."""
        return f"sfnflow-{self.stage}"

    @property
    def state_machine_prefix(self) -> str:
        return f"{self.prefix}-"

    def table(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def function(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def state_machine(self, workflow: str) -> str:
        return f"{self.state_machine_prefix}{workflow}"

    def queue(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    # ARNs built from names, not from resources: referring to a name never creates a
    # dependency, so functions can know the machines and each other without cycles.

    def function_arn(self, stack: Stack, role: str) -> str:
        return stack.format_arn(service="lambda", resource="function",
                                resource_name=self.function(role),
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def state_machine_arn(self, stack: Stack, workflow: str) -> str:
        return stack.format_arn(service="states", resource="stateMachine",
                                resource_name=self.state_machine(workflow),
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def state_machines_arn(self, stack: Stack) -> str:
        """Every sfnflow state machine of this stage, including those the API creates."""
        return self.state_machine_arn(stack, "*")

    def executions_arn(self, stack: Stack) -> str:
        return stack.format_arn(service="states", resource="execution",
                                resource_name=f"{self.state_machine_prefix}*:*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def state_machine_arn_prefix(self, stack: Stack) -> str:
        """What every sfnflow machine's ARN starts with (the status-change rule's pattern)."""
        return self.state_machine_arn(stack, "")
