"""EventBridge and EventBridge Scheduler: what starts and follows executions.

- the ``sfnflow-<stage>`` bus, for workflow events (event triggers listen there);
- the status-change rule on the default bus (where Step Functions publishes): every
  execution of an sfnflow machine that changes status reaches the execution-events and
  error-router functions;
- the schedule group and the role Scheduler assumes for schedule triggers, and the role
  EventBridge assumes for the event-trigger rules the API creates at run time — both may
  start this stage's sfnflow state machines and nothing else.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from sfnflow_cdk.naming import Naming

STATUS_CHANGE = "Step Functions Execution Status Change"


class PlatformEvents(Construct):
    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 status_change_targets: list[lambda_.IFunction]) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.bus = events.EventBus(self, "WorkflowBus", event_bus_name=naming.prefix)
        self.status_change_rule = events.Rule(
            self, "StatusChange",
            description="sfnflow executions changing status -> run data and error workflows",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[STATUS_CHANGE],
                detail={"stateMachineArn": events.Match.prefix(
                    naming.state_machine_arn_prefix(stack))},
            ),
            targets=[targets.LambdaFunction(fn, retry_attempts=8)
                     for fn in status_change_targets],
        )
        self.schedule_group = scheduler.ScheduleGroup(self, "Schedules",
                                                      schedule_group_name=naming.prefix)
        self.scheduler_role = _start_only_role(
            self, "SchedulerRole", "scheduler.amazonaws.com", naming, stack,
            "EventBridge Scheduler: start this stage's sfnflow workflows (schedule triggers)")
        self.events_role = _start_only_role(
            self, "EventsRole", "events.amazonaws.com", naming, stack,
            "EventBridge rules: start this stage's sfnflow workflows (event triggers)")


def _start_only_role(scope: Construct, id: str, service: str, naming: Naming, stack: Stack,
                     description: str) -> iam.Role:
    role = iam.Role(scope, id, description=description, assumed_by=iam.ServicePrincipal(
        service, conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))
    role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                           resources=[naming.state_machines_arn(stack)]))
    return role
