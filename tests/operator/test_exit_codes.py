"""Every command's exit code, through the real CLI (docs/operations.md, "Exit codes")."""

from __future__ import annotations

from ledgerbridge.engine import RunReport
from ledgerbridge.exitcodes import ExitCode, most_urgent
from ledgerbridge.operator_cli import report_code

from .conftest import Operator


def test_unknown_names_exit_not_found_and_parked_records_exit_parked(operator: Operator) -> None:
    unknown = operator.cli("sync", "no-such-pipeline", code=ExitCode.NOT_FOUND)
    assert "no pipeline 'no-such-pipeline'" in unknown.stderr
    operator.cli("replay", "424242", code=ExitCode.NOT_FOUND)
    operator.cli("conflicts", "resolve", "424242", "--keep", "source", code=ExitCode.NOT_FOUND)

    # one round of the scheduler, as cron runs it: the demo parks an order on purpose
    once = operator.cli("run", "--once", code=ExitCode.PARKED)
    assert "west-orders" in once.stdout
    listed = operator.cli("failures", code=ExitCode.PARKED).stdout
    assert "NeedsMapping" in listed
    assert operator.json("failures", "--state", "retrying") == []  # none listed: exit 0


def test_one_code_for_several_outcomes_is_the_most_urgent() -> None:
    parked, retrying, busy = RunReport("a"), RunReport("b"), RunReport("c", busy="held by x")
    parked.states["failed"] += 1
    retrying.states["retrying"] += 1
    codes = [report_code(r) for r in (parked, retrying, busy, RunReport("d"))]
    assert codes == [ExitCode.PARKED, ExitCode.RETRYING, ExitCode.BUSY, ExitCode.OK]
    assert most_urgent(codes) is ExitCode.PARKED
    assert most_urgent([ExitCode.RETRYING, ExitCode.BUSY]) is ExitCode.BUSY
    assert most_urgent([ExitCode.PARKED, ExitCode.CREDENTIALS]) is ExitCode.CREDENTIALS
    assert most_urgent([]) is ExitCode.OK
    assert len({int(c) for c in ExitCode}) == len(ExitCode)  # distinct codes
