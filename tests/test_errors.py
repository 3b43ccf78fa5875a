"""Retry behaviour is a property of the error class."""

import json
from decimal import Decimal

import pytest

from ledgerbridge import errors as e


@pytest.mark.parametrize(
    ("cls", "retryable", "operator", "state"),
    [
        (e.TransientError, True, False, "retrying"),
        (e.RateLimited, True, False, "retrying"),
        (e.QuotaExhausted, True, False, "retrying"),
        (e.AuthExpired, True, False, "retrying"),
        (e.AuthFailed, False, True, "failed"),
        (e.PermissionDenied, False, True, "failed"),
        (e.ValidationFailed, False, False, "failed"),
        (e.NotFound, False, False, "failed"),
        (e.Conflict, False, False, "conflict"),
        (e.OutcomeUnknown, True, False, "retrying"),
        (e.OutcomeUnverifiable, False, True, "failed"),
    ],
)
def test_class_says_what_to_do(cls, retryable, operator, state):
    err = cls("x")
    assert (err.retryable, err.needs_operator, err.record_state) == (retryable, operator, state)
    assert isinstance(err, e.SyncError) and isinstance(err, e.LedgerbridgeError)


def test_summaries_are_json_and_keep_platform_details():
    err = e.RateLimited(
        "slow down", retry_after=61.0, platform="zohobooks", code=44, status_code=429
    )
    summary = json.loads(json.dumps(err.summary()))
    assert summary["code"] == "44" and summary["retry_after"] == 61.0 and summary["retryable"]
    missing = e.NeedsMapping("no tax", missing="tax:VAT 7%")
    assert missing.summary()["missing"] == "tax:VAT 7%" and missing.record_state == "needs_mapping"
    mismatch = e.TotalsMismatch(
        "bad",
        computed=Decimal("1"),
        stated=Decimal("2"),
        difference=Decimal("1"),
        tolerance=Decimal("0.01"),
        currency="EUR",
    )
    assert json.loads(json.dumps(mismatch.summary()))["difference"] == "1"


def test_config_error_lists_every_problem_with_its_location():
    err = e.ConfigError(
        [(e.SourceLocation("a.yaml", 3, 5), "bad"), (e.SourceLocation("a.yaml", 9), "worse")]
    )
    assert str(err) == "a.yaml:3:5: bad\na.yaml:9: worse"
