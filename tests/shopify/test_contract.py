"""The shipped SDL subset and every query the connector sends agree with Shopify's 2025-01 schema."""

from __future__ import annotations

import gzip
import json
from functools import cache

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    parse,
    validate,
)

from ledgerbridge_shopify import catalog, queries
from ledgerbridge_shopify.emulator.schema import load_schema
from tests.conftest import refdata


@cache
def _official() -> GraphQLSchema:
    path = refdata("shopify-graphql-schema", "admin_schema_2025-01.json.gz")
    data = json.loads(gzip.decompress(path.read_bytes()))
    schema = build_client_schema(data.get("data", data))
    # graphql-core's schema self-check rejects Shopify's published schema on a deprecation
    # rule that says nothing about query validity (facts doc §10.10): skip it, keep query checks.
    schema._validation_errors = []  # type: ignore[attr-defined]
    return schema


@pytest.fixture
def official() -> GraphQLSchema:
    return _official()


def test_every_subset_type_field_and_argument_exists_with_the_same_type(
    official: GraphQLSchema,
) -> None:
    subset = load_schema()
    problems: list[str] = []
    checked = 0
    for name, ours in subset.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        theirs = official.type_map.get(name)
        if theirs is None:
            problems.append(f"type {name} is not in Shopify's schema")
            continue
        if type(theirs) is not type(ours):
            problems.append(f"{name} is a {type(theirs).__name__} in Shopify's schema")
            continue
        if isinstance(ours, GraphQLEnumType):
            assert isinstance(theirs, GraphQLEnumType)
            missing = set(ours.values) - set(theirs.values)
            problems += [f"enum value {name}.{v} is not Shopify's" for v in sorted(missing)]
        if isinstance(ours, GraphQLUnionType):
            assert isinstance(theirs, GraphQLUnionType)
            extra = {t.name for t in ours.types} - {t.name for t in theirs.types}
            problems += [f"union {name} member {t} is not Shopify's" for t in sorted(extra)]
        if isinstance(ours, GraphQLObjectType):
            assert isinstance(theirs, GraphQLObjectType)
            extra = {i.name for i in ours.interfaces} - {i.name for i in theirs.interfaces}
            problems += [
                f"{name} does not implement {i} in Shopify's schema" for i in sorted(extra)
            ]
        if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType)
            for fname, field in ours.fields.items():
                checked += 1
                other = theirs.fields.get(fname)
                if other is None:
                    problems.append(f"field {name}.{fname} is not in Shopify's schema")
                    continue
                if str(other.type) != str(field.type):
                    problems.append(
                        f"{name}.{fname} is {other.type} in Shopify's schema, {field.type} here"
                    )
                for aname, arg in field.args.items():
                    their_arg = other.args.get(aname)
                    if their_arg is None:
                        problems.append(f"argument {name}.{fname}({aname}) is not Shopify's")
                    elif str(their_arg.type) != str(arg.type):
                        problems.append(
                            f"{name}.{fname}({aname}) is {their_arg.type} in Shopify's schema"
                        )
    assert subset.query_type is not None and subset.query_type.name == official.query_type.name  # type: ignore[union-attr]
    assert problems == []
    assert checked > 200


@pytest.mark.parametrize("name", sorted(queries.ALL_QUERIES))
def test_every_query_validates_against_the_official_schema(
    official: GraphQLSchema, name: str
) -> None:
    document = parse(queries.ALL_QUERIES[name])
    assert validate(official, document) == []
    assert validate(load_schema(), document) == []  # and the emulator can answer it


@pytest.mark.parametrize("name", ["PRODUCTS", "SET_QUANTITIES", "PRODUCT_UPDATE"])
def test_every_catalog_document_validates_against_the_official_schema(
    official: GraphQLSchema, name: str
) -> None:
    document = parse(getattr(catalog, name))
    assert validate(official, document) == []
    assert validate(load_schema(), document) == []


def test_validation_is_real(official: GraphQLSchema) -> None:
    errors = validate(official, parse("{ orders(first: 1) { nodes { totalPriceV3 } } }"))
    assert errors and "totalPriceV3" in errors[0].message
