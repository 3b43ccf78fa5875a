"""Helpers for connector test suites (ledgerbridge's own and third-party plugins').

Import only from tests: it needs the ``[dev]`` extra (vcrpy).
"""
