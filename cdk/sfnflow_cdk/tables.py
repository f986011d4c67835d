"""DynamoDB tables, read off the pynamodb models (``functions.store.models``).

The models are the one definition of keys and indexes: ``table_specs`` introspects every
model in ``ALL_MODELS`` (the schema pynamodb itself sends to CreateTable, so the local
runtime and AWS get the same tables) and ``Tables`` declares one on-demand table per model,
with point-in-time recovery, TTL on ``expiresAt`` where the model has that attribute, and a
DynamoDB stream where the model's ``Meta.stream_view_type`` asks for one (pynamodb's own
setting, which the local runtime's ``create_table`` reads too). A model added to
``ALL_MODELS`` gets its table without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from sfnflow_cdk.naming import Naming

TTL_ATTRIBUTE = "expiresAt"

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
          "B": dynamodb.AttributeType.BINARY}
_STREAMS = {"NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
            "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
            "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY}
_PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL,
                "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
                "INCLUDE": dynamodb.ProjectionType.INCLUDE}


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition: Key
    sort: Key | None
    projection: str  # "ALL" | "KEYS_ONLY" | "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    suffix: str
    partition: Key
    sort: Key | None
    global_indexes: tuple[IndexSpec, ...]
    local_indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None
    stream_view_type: str | None = None  # "NEW_IMAGE" ...: the table streams its changes


def _keys(key_schema: Iterable[Mapping[str, str]],
          types: Mapping[str, str]) -> tuple[Key, Key | None]:
    by_role = {k["KeyType"]: Key(k["AttributeName"], types[k["AttributeName"]])
               for k in key_schema}
    return by_role["HASH"], by_role.get("RANGE")


def _index(schema: Mapping[str, Any], types: Mapping[str, str]) -> IndexSpec:
    partition, sort = _keys(schema["key_schema"], types)
    projection = schema["projection"]
    return IndexSpec(schema["index_name"], partition, sort, projection["ProjectionType"],
                     tuple(projection.get("NonKeyAttributes", ())))


def _ttl_attribute(model: type[Model]) -> str | None:
    for name, attribute in model.get_attributes().items():
        if isinstance(attribute, TTLAttribute) or attribute.attr_name == TTL_ATTRIBUTE:
            return attribute.attr_name or name
    return None


def table_spec(model: type[Model], suffix: str) -> TableSpec:
    """The table ``model`` needs: the schema pynamodb's own ``create_table`` uses."""
    schema = model._get_schema()  # pynamodb's CreateTable arguments
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    for index in (*schema["global_secondary_indexes"], *schema["local_secondary_indexes"]):
        types.update({d["AttributeName"]: d["AttributeType"]
                      for d in index["attribute_definitions"]})
    partition, sort = _keys(schema["key_schema"], types)
    return TableSpec(
        suffix=suffix,
        partition=partition,
        sort=sort,
        global_indexes=tuple(sorted((_index(i, types) for i in
                                     schema["global_secondary_indexes"]), key=lambda i: i.name)),
        local_indexes=tuple(sorted((_index(i, types) for i in
                                    schema["local_secondary_indexes"]), key=lambda i: i.name)),
        ttl_attribute=_ttl_attribute(model),
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
    )


def table_specs() -> list[TableSpec]:
    """One spec per model of ``ALL_MODELS``, named by its suffix (``TABLE_SUFFIXES``)."""
    from functions.store.models import ALL_MODELS, TABLE_SUFFIXES

    return [table_spec(model, TABLE_SUFFIXES[model]) for model in ALL_MODELS]


def _attribute(key: Key | None) -> dynamodb.Attribute | None:
    return None if key is None else dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


def construct_id(suffix: str) -> str:
    return "".join(part.capitalize() for part in suffix.replace("_", "-").split("-"))


class Tables(Construct):
    """Every run-data table; ``tables[suffix]`` is the table for that model."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.specs = table_specs()
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in self.specs:
            table = dynamodb.Table(
                self, construct_id(spec.suffix),
                table_name=naming.table(spec.suffix),
                partition_key=_attribute(spec.partition),
                sort_key=_attribute(spec.sort),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                stream=_STREAMS[spec.stream_view_type] if spec.stream_view_type else None,
                removal_policy=removal_policy,
            )
            for index in spec.global_indexes:
                table.add_global_secondary_index(
                    index_name=index.name, partition_key=_attribute(index.partition),
                    sort_key=_attribute(index.sort), projection_type=_PROJECTIONS[index.projection],
                    non_key_attributes=list(index.non_key_attributes) or None)
            for index in spec.local_indexes:
                table.add_local_secondary_index(
                    index_name=index.name, sort_key=_attribute(index.sort),
                    projection_type=_PROJECTIONS[index.projection],
                    non_key_attributes=list(index.non_key_attributes) or None)
            self.tables[spec.suffix] = table

    def index_names(self, suffix: str) -> list[str]:
        spec = next(s for s in self.specs if s.suffix == suffix)
        return [i.name for i in (*spec.global_indexes, *spec.local_indexes)]
