"""sfnflow's CDK app: the whole platform as one stack (``SfnflowStack``).

One module per part, each with one reason to change: ``naming`` (names and ARN patterns),
``tables`` (DynamoDB, introspected from ``functions.store.models``), ``storage`` (the
payload bucket), ``bundling`` (the Lambda code, bundled locally), ``functions`` (the
Lambdas and their roles), ``api`` (API Gateway), ``events`` (EventBridge and Scheduler),
``state_machines`` (the shared role and one machine per workflow in ``workflows/``) and
``nag`` (cdk-nag, with every acknowledgement and its reason).
"""

from sfnflow_cdk.stack import SfnflowStack, build_app

__all__ = ["SfnflowStack", "build_app"]
