"""Where the code runner's network reaches: nowhere, by default.

A Lambda function cannot block its own egress, and the code runner runs users' Python. So
by default (stack context ``codeRunnerNetwork=isolated``) it runs in a VPC of its own whose
subnets are isolated (no internet or NAT gateway, no routes out, no VPC endpoints) and whose
security group allows no outbound traffic: the code can reach no network at all. Lambda
still delivers the invocation and its logs, which do not pass through the VPC.
``codeRunnerNetwork=internet`` leaves the function outside any VPC (internet egress, as
Lambda functions have by default) for deployments whose code nodes must call out.

Lambda creates the function's network interfaces with the function's role, so the role is
granted exactly the EC2 actions AWS lists for a VPC function, scoped to this VPC's subnets
and security group where the action allows it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

ISOLATED, INTERNET = "isolated", "internet"
NETWORKS = (ISOLATED, INTERNET)


def network_setting(value: Any) -> str:
    """The ``codeRunnerNetwork`` context value, checked."""
    network = str(value if value is not None else ISOLATED).lower()
    if network not in NETWORKS:
        raise ValueError(f"codeRunnerNetwork must be one of {', '.join(NETWORKS)}, "
                         f"not {value!r}")
    return network


class IsolatedNetwork(Construct):
    """A VPC with isolated subnets in two AZs and a security group without egress; flow
    logs record what the code tried (rejected traffic) in a log group of the stack."""

    def __init__(self, scope: Construct, id: str, *, log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False,
            subnet_configuration=[ec2.SubnetConfiguration(
                name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)])
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="sfnflow code runner: no inbound, no outbound traffic")
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=log_retention,
                                  removal_policy=removal_policy)
        self.vpc.add_flow_log("FlowLog", traffic_type=ec2.FlowLogTrafficType.REJECT,
                              destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))

    @property
    def subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def function_props(self) -> dict[str, Any]:
        """Keyword arguments of ``lambda_.Function`` that place it in this network."""
        return {"vpc": self.vpc, "vpc_subnets": self.subnets,
                "security_groups": [self.security_group]}

    def grant_network_interfaces(self, role: iam.IRole) -> None:
        """What Lambda needs to manage a VPC function's network interfaces (the actions of
        the AWSLambdaVPCAccessExecutionRole managed policy but logs), without a managed
        policy: creating them only in these subnets with this security group."""
        stack = Stack.of(self)

        def ec2_arn(resource: str, name: str) -> str:
            return stack.format_arn(service="ec2", resource=resource, resource_name=name)

        subnet_ids = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        interfaces = ec2_arn("network-interface", "*")
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[interfaces, ec2_arn("security-group", self.security_group.security_group_id),
                       *(ec2_arn("subnet", subnet) for subnet in subnet_ids.subnet_ids)]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                     "ec2:UnassignPrivateIpAddresses"],
            resources=[interfaces]))
        # Describe actions support no resource-level permissions.
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], resources=["*"]))
