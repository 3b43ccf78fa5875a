"""Every built-in source passes the standard source checks (``ledgerbridge.testing.conformance``);
the tinyshop example runs the same checks in its own tests."""

from __future__ import annotations

import pytest

from ledgerbridge.testing.conformance import CHECKS, run_check

from .worlds import WORLDS


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("platform", sorted(WORLDS))
def test_standard_source_checks(platform: str, check: str) -> None:
    run_check(check, WORLDS[platform])
