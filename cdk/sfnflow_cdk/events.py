"""EventBridge and EventBridge Scheduler: what starts and follows executions.

- the ``sfnflow-<stage>`` bus, for workflow events (event triggers listen there);
- the status-change rule on the default bus (where Step Functions publishes): every
  execution of an sfnflow machine that changes status reaches the execution-events and
  error-router functions. Child executions of a Distributed Map (machine ARN
  ``<machine>/<map run label>``) are left out: their Map reports to the parent;
- the reconcile schedule: every 5 minutes the reconciler completes what a lost
  status-change event left RUNNING (EventBridge delivers best-effort);
- one dead-letter queue for every delivery that failed all its retries: status changes
  (the rule's targets, and the two functions' own asynchronous invocations), the
  reconciler's runs, triggers (the rules and schedules the API creates at run time, and the
  trigger starter) and the progress stream's batches (``streams``); the API lists and
  redrives them (``grant_redrive``, ``functions.services.dead_letters``);
- the schedule group; the role Scheduler assumes for schedule triggers (invoke the trigger
  starter, dead-letter to the queue), and the permission for this stage's event-trigger
  rules to invoke the trigger starter, which names each execution after its delivery.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from sfnflow_cdk.naming import Naming

STATUS_CHANGE = "Step Functions Execution Status Change"
# Step Functions labels a Distributed Map child ``<machine>/<label>``; names of machines
# and executions may not contain "/".
MAP_RUN_CHILD = "*/*"
DELIVERY_RETRIES = 185  # EventBridge's and Scheduler's maximum
MAX_EVENT_AGE = Duration.hours(24)  # EventBridge's and Scheduler's maximum
ASYNC_RETRIES = 2  # Lambda's own retries of an asynchronous invocation that failed
RECONCILE_EVERY = Duration.minutes(5)
DEAD_LETTER_RETENTION = Duration.days(14)  # SQS's maximum


class PlatformEvents(Construct):
    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 status_change_targets: list[lambda_.IFunction],
                 reconciler: lambda_.IFunction, trigger_starter: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.bus = events.EventBus(self, "WorkflowBus", event_bus_name=naming.prefix)
        self.dead_letters = sqs.Queue(
            self, "Undelivered", queue_name=naming.queue("undelivered"),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION)
        Validations.of(self.dead_letters).acknowledge(Acknowledgment(
            id="AwsSolutions-SQS3", reason="It is the dead-letter queue: of the status-change "
            "rule's and the trigger rules' and schedules' targets, and of the functions they "
            "invoke asynchronously; nothing reads it but an operator."))
        self.status_change_rule = events.Rule(
            self, "StatusChange",
            description="sfnflow executions changing status -> run data and error workflows",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[STATUS_CHANGE],
                detail={"stateMachineArn": events.Match.prefix(
                            naming.state_machine_arn_prefix(stack)),
                        "executionArn": events.Match.anything_but_wildcard(MAP_RUN_CHILD)},
            ),
            targets=[self._lambda_target(fn) for fn in status_change_targets],
        )
        self.reconcile_rule = events.Rule(
            self, "Reconcile", schedule=events.Schedule.rate(RECONCILE_EVERY),
            description="sfnflow: complete executions whose status change was lost",
            targets=[targets.LambdaFunction(
                reconciler, retry_attempts=2, max_event_age=RECONCILE_EVERY,
                dead_letter_queue=self.dead_letters)])
        # EventBridge invokes it asynchronously too: a run that fails its retries is a
        # record in the queue (the next run, five minutes on, covers what it missed).
        reconciler.configure_async_invoke(
            retry_attempts=ASYNC_RETRIES, max_event_age=RECONCILE_EVERY,
            on_failure=destinations.SqsDestination(self.dead_letters))
        # What a dead letter may be redriven to (``grant_redrive``): the functions whose
        # deliveries and asynchronous invocations end in the queue.
        self._redrive_targets = [*status_change_targets, reconciler, trigger_starter]
        self.schedule_group = scheduler.ScheduleGroup(self, "Schedules",
                                                      schedule_group_name=naming.prefix)
        self._trigger_net(naming, stack, trigger_starter)

    def grant_redrive(self, grantee: iam.IGrantable) -> None:
        """``/admin/dead-letters``: read, hide and delete the queue's messages, and invoke
        the functions they were meant for again (unqualified: the redrive drops the
        ``:$LATEST`` Lambda's failure records name, so no ``<function>:*`` wildcard)."""
        self.dead_letters.grant_consume_messages(grantee)
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[function.function_arn for function in self._redrive_targets]))

    def _lambda_target(self, function: lambda_.IFunction) -> targets.LambdaFunction:
        """Retried for a day, then dead-lettered; the function's own asynchronous
        invocation is retried and dead-lettered too (EventBridge invokes it async)."""
        function.configure_async_invoke(
            retry_attempts=ASYNC_RETRIES, max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letters))
        return targets.LambdaFunction(function, retry_attempts=DELIVERY_RETRIES,
                                      max_event_age=MAX_EVENT_AGE,
                                      dead_letter_queue=self.dead_letters)

    def _trigger_net(self, naming: Naming, stack: Stack,
                     trigger_starter: lambda_.IFunction) -> None:
        """Schedules and rules created at run time (``functions.services.triggers``) all
        target the trigger starter, with a retry policy and this dead-letter queue."""
        trigger_starter.configure_async_invoke(
            retry_attempts=ASYNC_RETRIES, max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letters))
        self.scheduler_role = iam.Role(
            self, "SchedulerRole",
            description="EventBridge Scheduler: schedule triggers -> the trigger starter",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account}}))
        self.scheduler_role.add_to_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[trigger_starter.function_arn]))
        self.dead_letters.grant_send_messages(self.scheduler_role)  # Scheduler's DLQ: by role
        rule = naming.state_machine_prefix + "*"
        self.trigger_rule_arns = [
            stack.format_arn(service="events", resource="rule", resource_name=rule),
            stack.format_arn(service="events", resource="rule",
                             resource_name=f"{naming.prefix}/{rule}")]
        for index, source_arn in enumerate(self.trigger_rule_arns):
            trigger_starter.add_permission(
                f"TriggerRules{index}", principal=iam.ServicePrincipal("events.amazonaws.com"),
                source_arn=source_arn, source_account=stack.account)
        # EventBridge's DLQ: by the queue's resource policy, for this stage's rules only.
        self.dead_letters.add_to_resource_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn],
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            conditions={"ArnLike": {"aws:SourceArn": self.trigger_rule_arns}}))
        # Kept for API compatibility: rules no longer start machines themselves (Lambda
        # targets use the function's resource policy), so it may start nothing else.
        self.events_role = iam.Role(
            self, "EventsRole", description="EventBridge rules of sfnflow (unused by Lambda "
            "targets, which the trigger starter's resource policy admits)",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account}}))
