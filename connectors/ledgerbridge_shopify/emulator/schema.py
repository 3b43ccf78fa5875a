"""The SDL subset the emulator serves (``schema.graphql``), built once with graphql-core."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


@cache
def load_schema() -> GraphQLSchema:
    return build_schema(SDL_PATH.read_text(encoding="utf-8"))
