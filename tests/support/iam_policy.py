"""A small IAM evaluator for identity policies read from a synthesized CloudFormation
template: enough to tell whether a deployed role would allow a request.

What it implements of AWS's policy evaluation logic (IAM User Guide, "Policy evaluation
logic" and "IAM JSON policy elements"):

* a request is allowed when some ``Allow`` statement matches it and no ``Deny`` does
  (an explicit deny wins; no match is an implicit deny);
* ``Action`` / ``NotAction`` match case-insensitively, ``Resource`` / ``NotResource``
  case-sensitively, both with the ``*`` (any run of characters) and ``?`` (one character)
  wildcards; a request naming several resources needs every one allowed;
* ``Condition``: every operator of a statement and every key under it must hold;
  ``StringEquals``, ``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnEquals``,
  ``ArnLike`` and ``Bool``, with the ``...IfExists`` suffix; a key missing from the
  request fails a positive operator (the statement does not apply) and satisfies a
  negated one. Any other operator makes the statement not apply.

Template tokens (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``,
``Fn::Split``) resolve against one account, region and partition, with the physical name
of each resource taken from its name property (``TableName``, ``FunctionName`` ...) or
from ``physical`` for resources CloudFormation would name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NAME_PROPERTIES = ("TableName", "FunctionName", "StateMachineName", "RoleName",
                    "BucketName", "LogGroupName", "Name", "QueueName", "TopicName")


@dataclass(frozen=True)
class Environment:
    account: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"


class Resolver:
    """Resolves CloudFormation values of ``template`` to text."""

    def __init__(self, template: Mapping[str, Any], environment: Environment,
                 physical: Mapping[str, str] | None = None) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.env = environment
        self.physical = dict(physical or {})

    def name(self, logical_id: str) -> str:
        """The physical name (or id) ``Ref`` gives for most resource types."""
        if logical_id in self.physical:
            return self.physical[logical_id]
        properties = self.resources.get(logical_id, {}).get("Properties", {})
        for key in _NAME_PROPERTIES:
            if isinstance(properties.get(key), str):
                return str(properties[key])
        return logical_id

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.env.region if regional else ""
        return f"arn:{self.env.partition}:{service}:{region}:{self.env.account}:{resource}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources.get(logical_id, {}).get("Type", "")
        name = self.name(logical_id)
        arns = {
            "AWS::DynamoDB::Table": lambda: self._arn("dynamodb", f"table/{name}"),
            "AWS::Lambda::Function": lambda: self._arn("lambda", f"function:{name}"),
            "AWS::IAM::Role": lambda: self._arn("iam", f"role/{name}", regional=False),
            "AWS::S3::Bucket": lambda: f"arn:{self.env.partition}:s3:::{name}",
            "AWS::Logs::LogGroup": lambda: self._arn("logs", f"log-group:{name}:*"),
            "AWS::StepFunctions::StateMachine": lambda: self._arn(
                "states", f"stateMachine:{name}"),
            "AWS::SQS::Queue": lambda: self._arn("sqs", name),
            "AWS::Events::EventBus": lambda: self._arn("events", f"event-bus/{name}"),
            "AWS::KMS::Key": lambda: self._arn("kms", f"key/{name}"),
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]()
        if attribute == "StreamArn" and kind == "AWS::DynamoDB::Table":
            return self._arn("dynamodb", f"table/{name}/stream/*")
        if attribute in ("Name", "TableName", "FunctionName", "ApiId", "RoleId"):
            return name
        return f"<unresolved {logical_id}.{attribute}>"

    def ref(self, name: str) -> str:
        pseudo = {"AWS::Partition": self.env.partition, "AWS::Region": self.env.region,
                  "AWS::AccountId": self.env.account, "AWS::URLSuffix": self.env.url_suffix,
                  "AWS::StackName": "stack"}
        return pseudo.get(name) or self.name(name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            return value
        [(function, argument)] = value.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = (argument if isinstance(argument, list)
                                     else argument.split(".", 1))
            return self.get_att(logical_id, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self.resolve(p)) for p in self.resolve(parts))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        return value

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)
        return re.sub(r"\$\{([^}!]+)\}", replace, text)


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    condition: Mapping[str, Mapping[str, Any]]


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def statement(raw: Mapping[str, Any], resolver: Resolver) -> Statement:
    resolved = {key: resolver.resolve(value) for key, value in raw.items()}
    condition = {op: {key: resolver.resolve(v) for key, v in keys.items()}
                 for op, keys in (resolved.get("Condition") or {}).items()}
    return Statement(effect=str(resolved.get("Effect", "Allow")),
                     actions=_strings(resolved.get("Action")),
                     not_actions=_strings(resolved.get("NotAction")),
                     resources=_strings(resolved.get("Resource")),
                     not_resources=_strings(resolved.get("NotResource")),
                     condition=condition)


ATTACHED_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def role_statements(template: Mapping[str, Any], role_id: str,
                    resolver: Resolver) -> list[Statement]:
    """Every identity-policy statement attached to the role ``role_id``: its inline
    ``Policies`` and each ``AWS::IAM::Policy`` or ``AWS::IAM::ManagedPolicy`` naming it in
    ``Roles`` (CDK moves statements that overflow a role's inline policy size into such a
    managed policy). Managed policies referenced by ARN are not read: a role with
    ``ManagedPolicyArns`` raises, so none is silently ignored."""
    resources = template["Resources"]
    properties = resources[role_id].get("Properties", {})
    if properties.get("ManagedPolicyArns"):
        raise ValueError(f"{role_id}: managed policies are not evaluated here")
    raw = [s for policy in properties.get("Policies", [])
           for s in policy["PolicyDocument"]["Statement"]]
    for resource in resources.values():
        if resource.get("Type") in ATTACHED_POLICY_TYPES and \
                {"Ref": role_id} in resource["Properties"].get("Roles", []):
            raw += resource["Properties"]["PolicyDocument"]["Statement"]
    return [statement(s, resolver) for s in raw]


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` exactly one."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _any(patterns: Iterable[str], value: str, ignore_case: bool = False) -> bool:
    return any(matches(p, value, ignore_case=ignore_case) for p in patterns)


_OPERATORS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringLike": (lambda p, v: matches(p, v), False),
    "StringNotLike": (lambda p, v: matches(p, v), True),
    "ArnEquals": (lambda p, v: p == v, False),
    "ArnLike": (lambda p, v: matches(p, v), False),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
}


def _condition_holds(condition: Mapping[str, Mapping[str, Any]],
                     context: Mapping[str, str]) -> bool:
    for operator, keys in condition.items():
        base = operator.removesuffix("IfExists")
        if base not in _OPERATORS:
            return False
        compare, negated = _OPERATORS[base]
        for key, expected in keys.items():
            value = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if value is None:
                if operator.endswith("IfExists") or negated:
                    continue
                return False
            hit = any(compare(str(p), value) for p in _strings(expected))
            if hit == negated:
                return False
    return True


def _applies(s: Statement, action: str, resource: str, context: Mapping[str, str]) -> bool:
    if s.actions and not _any(s.actions, action, ignore_case=True):
        return False
    if s.not_actions and _any(s.not_actions, action, ignore_case=True):
        return False
    if s.resources and not _any(s.resources, resource):
        return False
    if s.not_resources and _any(s.not_resources, resource):
        return False
    return _condition_holds(s.condition, context)


def allowed(statements: Iterable[Statement], action: str, resources: Iterable[str],
            context: Mapping[str, str] | None = None) -> bool:
    """Whether ``action`` on every one of ``resources`` is allowed."""
    statements = list(statements)
    context = context or {}
    for resource in resources:
        if any(s.effect == "Deny" and _applies(s, action, resource, context)
               for s in statements):
            return False
        if not any(s.effect == "Allow" and _applies(s, action, resource, context)
                   for s in statements):
            return False
    return True
