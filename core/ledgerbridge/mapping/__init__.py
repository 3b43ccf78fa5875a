"""YAML mappings: the canonical -> target field rules integrators edit without code."""
