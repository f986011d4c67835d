"""Memory of the Lambda functions an execution bills, in MB: the one place it is decided.

Lambda bills duration x configured memory (GB-seconds), so the cost of a node run needs the
memory its function has. The CDK stack's ``FunctionSpec``s configure these sizes
(``cdk/sfnflow_cdk/functions.py`` imports them; ``tests/cdk/test_functions.py`` checks the
template); the runtime reads them from here, never from the deployed function (no extra
permission, no call per execution).
"""

from __future__ import annotations

NODE_RUNNER_MB = 1024  # every runner state: one node run, or a helper (rendezvous, stage)
CODE_RUNNER_MB = 512  # a ``code`` node's user code, called by the node runner

CODE_NODE_TYPES = frozenset({"code"})
