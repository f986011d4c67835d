"""Tables come from the pynamodb models: keys, indexes, TTL, billing, recovery."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model
from sfnflow_cdk.tables import Key, table_spec

from functions.store.models import ALL_MODELS, TABLE_SUFFIXES

from .conftest import Built


def _table(built: Built, name: str) -> dict[str, Any]:
    found = [r["Properties"] for r in built.resources("AWS::DynamoDB::Table").values()
             if r["Properties"]["TableName"] == name]
    assert len(found) == 1, f"no table {name}"
    return found[0]


def test_one_table_per_model_named_like_the_runtime(built: Built) -> None:
    names = {r["Properties"]["TableName"] for r in built.resources("AWS::DynamoDB::Table").values()}
    assert names == {f"sfnflow-dev-{TABLE_SUFFIXES[m]}" for m in ALL_MODELS}


def test_tables_match_the_models(built: Built) -> None:
    for model in ALL_MODELS:
        schema = model._get_schema()
        table = _table(built, f"sfnflow-dev-{TABLE_SUFFIXES[model]}")
        assert sorted(table["KeySchema"], key=lambda k: k["KeyType"]) == sorted(
            schema["key_schema"], key=lambda k: k["KeyType"])
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i["index_name"] for i in schema["global_secondary_indexes"]}
        for index in schema["global_secondary_indexes"]:
            assert sorted(indexes[index["index_name"]]["KeySchema"],
                          key=lambda k: k["KeyType"]) == sorted(index["key_schema"],
                                                                key=lambda k: k["KeyType"])
            assert indexes[index["index_name"]]["Projection"]["ProjectionType"] == \
                index["projection"]["ProjectionType"]
        declared = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
        for definition in schema["attribute_definitions"]:
            assert declared[definition["AttributeName"]] == definition["AttributeType"]
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        has_ttl = "expiresAt" in {a.attr_name for a in model.get_attributes().values()}
        if has_ttl:
            assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt",
                                                        "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in table


def test_execution_indexes_the_api_queries(built: Built) -> None:
    table = _table(built, "sfnflow-dev-executions")
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} >= {
        "byWorkflow", "byStatus", "byStartedAt"}


class _Local(LocalSecondaryIndex["_Probe"]):
    class Meta:
        index_name = "byScore"
        projection = IncludeProjection(["label"])

    tenant = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class _Probe(Model):
    class Meta:
        table_name = "sfnflow-probes"

    tenant = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    score = NumberAttribute()
    label = UnicodeAttribute()
    ttl = TTLAttribute(null=True)
    by_score = _Local()


def test_introspection_is_generic() -> None:
    """A model nobody told the stack about: number keys, an LSI with INCLUDE, TTLAttribute."""
    spec = table_spec(_Probe, "probes")
    assert (spec.partition, spec.sort) == (Key("tenant", "S"), Key("seq", "N"))
    assert spec.global_indexes == ()
    [local] = spec.local_indexes
    assert (local.name, local.sort, local.projection, local.non_key_attributes) == (
        "byScore", Key("score", "N"), "INCLUDE", ("label",))
    assert spec.ttl_attribute == "ttl"
