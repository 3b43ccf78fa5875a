"""YAML mappings: the canonical -> target field rules integrators edit without code.

``load_mapping(path)`` reads a mapping file (``extends:`` a preset, positions on
every error) and returns a ``MappingRuntime`` whose builders turn canonical
objects into plan drafts, recording every lookup that fired as a ``LookupHit``.
"""

from .expressions import Expression, ExpressionFailed, compile_expression
from .loader import load_document, load_mapping
from .runtime import LookupHit, MappingRuntime, NamedReference, tax_key
from .schema import MappingFile

__all__ = [
    "Expression",
    "ExpressionFailed",
    "LookupHit",
    "MappingFile",
    "MappingRuntime",
    "NamedReference",
    "compile_expression",
    "load_document",
    "load_mapping",
    "tax_key",
]
