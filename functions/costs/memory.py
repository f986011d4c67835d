"""Memory of the Lambda functions an execution bills, in MB: the one place it is decided.

Lambda bills duration x configured memory (GB-seconds), so the cost of a node run needs the
memory its function has. The CDK stack's ``FunctionSpec``s must configure these same sizes
(``tests/functions/costs/test_memory.py`` checks that they agree); the runtime reads them
from here, never from the deployed function (no extra permission, no call per execution).
"""

from __future__ import annotations

NODE_RUNNER_MB = 1024  # every runner state: one node run, or a helper (rendezvous, stage)
CODE_RUNNER_MB = 512  # a ``code`` node's user code, called by the node runner

CODE_NODE_TYPES = frozenset({"code"})
