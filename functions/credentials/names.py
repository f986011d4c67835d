"""Where a credential lives: secret ``sfnflow/<stage>/credentials/<name>``.

The stage is the one the stack names tables with (``sfnflow-<stage>``, see
``cdk/sfnflow_cdk/naming.py``), read from ``Config.table_prefix`` so the functions need no
second setting; the embedded cloud's tables are plain ``sfnflow``: stage ``local``. The
stack's IAM grants (``cdk/sfnflow_cdk/permissions.py``) build their resource patterns from
``secret_prefix`` too, so the runtime and the policy cannot disagree.
"""

from __future__ import annotations

from compiler.credentials import name_problem
from functions.config import Config
from functions.credentials.errors import CredentialInvalid

LOCAL_STAGE = "local"


def stage_of(config: Config) -> str:
    prefix = config.table_prefix
    return prefix.removeprefix("sfnflow-") if prefix.startswith("sfnflow-") else LOCAL_STAGE


def secret_prefix(stage: str) -> str:
    """Every credential secret of ``stage`` starts with this."""
    return f"sfnflow/{stage}/credentials/"


def secret_name(config: Config, name: str) -> str:
    """The secret holding credential ``name``; a name that breaks the rules is refused."""
    check_name(name)
    return secret_prefix(stage_of(config)) + name


def check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise CredentialInvalid(problem)
