"""State machines: one per workflow file in ``workflows/``, compiled at synth time, and the
role every sfnflow machine runs with (these, and those the API creates at run time).

The workflows are compiled together (``compiler.compile_project``) so sub-workflow calls
are checked; the ASL keeps its ``${NodeRunnerArn}`` / ``${MergeQuorumTable}`` /
``${Workflow_<name>}`` placeholders and CloudFormation fills them in
(DefinitionSubstitutions). ``TimeoutSeconds`` is in the
ASL already. Logging (a log group per machine, every event but without execution data:
items live in the run data) and X-Ray tracing are on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path

from aws_cdk import RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from compiler import CompiledWorkflow, compile_project, load_file
from compiler.asl import PARTITION_SUBSTITUTION
from compiler.errors import WorkflowInvalid
from compiler.limits import enforce_limits
from compiler.model import NAME_MAX
from compiler.project import WORKFLOW_SUFFIXES
from compiler.triggers import event_bus_problems
from sfnflow_cdk.naming import Naming

NODE_RUNNER_SUBSTITUTION = "NodeRunnerArn"
QUORUM_TABLE_SUBSTITUTION = "MergeQuorumTable"
# startExecution.sync:2 follows the child through this managed rule (AWS creates it).
SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"


def compile_workflows(directory: Path, *, event_buses: Collection[str] = ("default",)
                      ) -> dict[str, CompiledWorkflow]:
    """Every workflow file of ``directory``, compiled together and within Step Functions'
    limits, its event triggers on ``event_buses`` only (those the stack may put rules on);
    raises ``WorkflowInvalid`` listing every problem."""
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix in WORKFLOW_SUFFIXES) if directory.is_dir() else []
    compiled = {name: enforce_limits(workflow)
                for name, workflow in compile_project([load_file(p) for p in files]).items()}
    problems = [replace(problem, workflow=name) for name, workflow in compiled.items()
                for problem in event_bus_problems(workflow.manifest.get("triggers") or [],
                                                  event_buses)]
    if problems:
        raise WorkflowInvalid(problems)
    return compiled


class StateMachineRole(Construct):
    """The role of every sfnflow state machine: invoke the node runner, run sibling
    machines as sub-workflows and its own as Distributed Map children, deliver logs and
    traces. (The quorum table it writes is granted with the other tables, in
    ``SfnflowStack._grant``.)"""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 node_runner_arn: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.role = iam.Role(self, "Role",
                             assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                             description=f"{naming.prefix} state machines")
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[node_runner_arn, f"{node_runner_arn}:*"]))
        # Sub-workflows and Distributed Map children (executions "<machine>/<map run>:<id>",
        # which the executions pattern covers) are sibling or own executions.
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[naming.state_machines_arn(stack)]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[naming.executions_arn(stack)]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule",
                                        resource_name=SYNC_RULE)]))
        # Log delivery and X-Ray do not support resource-level permissions.
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                     "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
                     "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                     "logs:DescribeLogGroups"],
            resources=["*"]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                     "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            resources=["*"]))


def runtime_log_group(scope: Construct, id: str, *, naming: Naming,
                      log_retention: logs.RetentionDays,
                      removal_policy: RemovalPolicy) -> logs.LogGroup:
    """Where the state machines the API creates log, as the stack's machines log to theirs
    (``/aws/vendedlogs/``: Step Functions' log delivery keeps CloudWatch's resource policy
    small there). Its ARN (``...:log-group:<name>:*``, the form Step Functions wants)
    reaches the API as ``SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN``; ``/`` cannot occur in a
    machine name, so no workflow's own log group can take this name."""
    return logs.LogGroup(scope, id,
                         log_group_name=f"/aws/vendedlogs/states/{naming.prefix}/api-created",
                         retention=log_retention, removal_policy=removal_policy)


class WorkflowStateMachines(Construct):
    """``machines[workflow]`` is the state machine of each compiled workflow. ``platform``
    holds the values of the platform placeholders (node runner ARN, quorum table name)."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 compiled: dict[str, CompiledWorkflow], role: iam.IRole,
                 platform: Mapping[str, str], log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.machines: dict[str, sfn.StateMachine] = {}
        for name, workflow in sorted(compiled.items()):
            machine_name = naming.state_machine(name)
            if len(machine_name) > NAME_MAX:
                raise ValueError(f"state machine name {machine_name!r} is longer than "
                                 f"{NAME_MAX} characters: shorten the workflow's name")
            # The partition goes into the definition itself, a token CloudFormation resolves
            # (cfn-lint checks integration ARNs against their pattern and cannot see through
            # a placeholder inside one); the other platform values are substitutions.
            inline = {PARTITION_SUBSTITUTION: platform[PARTITION_SUBSTITUTION]} \
                if PARTITION_SUBSTITUTION in platform else {}
            substitutions = {key: platform[key]
                             for key in workflow.manifest.get("substitutions", [])
                             if key in platform and key not in inline}
            for child, link in workflow.manifest.get("children", {}).items():
                substitutions[link["substitution"]] = naming.state_machine_arn(stack, child)
            # Construct ids from the name: adding a workflow never renames another's resources.
            log_group = logs.LogGroup(self, f"{name}Logs",
                                      log_group_name=f"/aws/vendedlogs/states/{machine_name}",
                                      retention=log_retention, removal_policy=removal_policy)
            machine = sfn.StateMachine(
                self, name,
                state_machine_name=machine_name,
                state_machine_type=sfn.StateMachineType.STANDARD,
                definition_body=sfn.DefinitionBody.from_string(
                    workflow.definition_json(inline)),
                definition_substitutions=substitutions,
                role=role,
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                    include_execution_data=False),
                tracing_enabled=True,
                removal_policy=removal_policy,
            )
            Tags.of(machine).add("sfnflow:workflow", name)
            for key, value in (workflow.manifest.get("tags") or {}).items():
                Tags.of(machine).add(str(key), str(value))
            self.machines[name] = machine
