"""The CDK app (``cdk.json`` runs it): ``cdk synth -c stage=dev``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # sfnflow_cdk, and the compiler/functions packages
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sfnflow_cdk import build_app  # noqa: E402

if __name__ == "__main__":
    app, _ = build_app()
    app.synth()
