"""Logs and progress of the real CLI against the demo's emulators: JSON lines that parse
(level, UTC timestamp, tenant, pipeline), `--log-format`/`--log-level` after the command
as before it, human lines with timestamps, progress lines with totals on a non-TTY (on
stderr: stdout keeps the results), and no secret in any log line even at debug level --
where httpx logs every URL, the Zoho token refresh's included."""

from __future__ import annotations

import json
import re
from typing import Any

from demo.world import API2CART_KEY, SHOPIFY_APP_SECRET, WOO_HOOK_SECRET
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge_shopify.emulator.app import DEFAULT_TOKEN
from ledgerbridge_woocommerce.emulator.app import DEFAULT_KEY, DEFAULT_SECRET
from ledgerbridge_zohobooks.emulator.seed import EMULATOR_CLIENT_SECRET

from .conftest import Operator

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def with_env(operator: Operator, **env: str) -> Operator:
    return Operator(operator.world, {**operator.env, **env})


def json_lines(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def progress_of(lines: list[dict[str, Any]], pipeline: str) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line.get("logger") == "ledgerbridge.progress" and line.get("pipeline") == pipeline
    ]


def test_sync_progress_lines_with_totals_on_a_non_tty_and_json_logs(operator: Operator) -> None:
    quick = with_env(operator, LEDGERBRIDGE_PROGRESS_EVERY="0")
    # the global options after the command: moved before it (``hoist_global_options``)
    done = quick.cli("sync", "--log-format", "json", "--log-level", "info", code=ExitCode.PARKED)
    lines = json_lines(done.stderr)  # every stderr line is one JSON object
    for pipeline in ("north-orders", "west-orders", "cart-orders"):
        seen = progress_of(lines, pipeline)
        assert len(seen) >= 2, (pipeline, done.stderr)
        last = seen[-1]
        assert last["total"] >= 12 and last["done"] == last["total"], last
        assert re.search(rf"{pipeline}: {last['done']}/{last['total']} done in ", last["event"])
        middle = [s for s in seen[:-1] if 0 < s["done"] < s["total"]]
        assert middle and all("ETA" in s["event"] for s in middle), seen
        assert all(s["timestamp"].endswith("Z") and s["level"] == "info" for s in seen)
    assert "Sync summary" in done.stdout and "{" not in done.stdout.split("Sync summary")[0]

    # replay: the total is known before the first record
    replay = quick.cli(
        "--log-format=json", "replay", "--state", "needs_mapping", code=ExitCode.PARKED
    )
    seen = progress_of(json_lines(replay.stderr), "west-orders")
    assert seen and seen[0]["total"] == 1 and seen[-1]["done"] == 1, replay.stderr


def test_human_lines_have_timestamps_and_the_level_filters(operator: Operator) -> None:
    done = operator.cli("run", "--once", code=ExitCode.PARKED)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(STAMP.match(line) for line in lines), done.stderr
    assert any("[info" in line and "west-orders: read 12" in line for line in lines)
    assert any("tenant=west" in line and "pipeline=west-orders" in line for line in lines)

    quiet = with_env(operator, LEDGERBRIDGE_LOG_LEVEL="warning").cli(
        "run", "--once", code=ExitCode.OK
    )  # west's parked order was read before: nothing new to park this time
    assert "[info" not in quiet.stderr, quiet.stderr
    bad = operator.cli("--log-level", "chatty", "status", ok=False)
    assert bad.returncode == ExitCode.USAGE and "chatty" in bad.stderr


def test_no_secret_reaches_the_logs_even_at_debug(operator: Operator) -> None:
    world = operator.world
    done = with_env(operator, LEDGERBRIDGE_PROGRESS_EVERY="0").cli(
        "--log-level", "debug", "--log-format", "json", "sync", code=ExitCode.PARKED
    )
    lines = json_lines(done.stderr)
    urls = [line["event"] for line in lines if line.get("logger") == "httpx"]
    assert any("/oauth/v2/token" in url for url in urls), "httpx logs every request at debug"
    secrets = [
        *world.saved.refresh.values(),
        EMULATOR_CLIENT_SECRET,
        DEFAULT_TOKEN,
        DEFAULT_SECRET,
        DEFAULT_KEY,
        SHOPIFY_APP_SECRET,
        WOO_HOOK_SECRET,
        API2CART_KEY,
    ]
    for secret in secrets:
        assert secret not in done.stderr, secret


def test_a_source_that_counts_gives_the_whole_total_from_its_first_page(
    operator: Operator,
) -> None:
    """API2Cart says how many orders a query matches (``result.orders_count``): with pages
    of 5, the first progress line of cart-orders already carries all 12 (then the 2
    deleted ones, counted by their own query), not the 5 read so far."""
    path = operator.world.config_path
    text = path.read_text()
    path.write_text(text.replace("cart: EtsyAPIv3,", "cart: EtsyAPIv3, page_size: 5,"))
    quick = with_env(operator, LEDGERBRIDGE_PROGRESS_EVERY="0", LEDGERBRIDGE_LOG_FORMAT="json")
    done = quick.cli("sync", "cart-orders", code=ExitCode.OK)
    seen = progress_of(json_lines(done.stderr), "cart-orders")
    assert seen[0]["total"] == 12 and seen[0]["done"] == 0, seen[:2]
    assert seen[5]["total"] == 12 and seen[5]["done"] == 5  # after the first page
    assert seen[-1]["done"] == seen[-1]["total"] == 14, seen[-1]


def test_woocommerce_totals_come_from_x_wp_total(operator: Operator) -> None:
    """WooCommerce's ``X-WP-Total``: with pages of 5, west-orders' first progress line
    already carries the 12 orders of the query."""
    path = operator.world.config_path
    text = path.read_text()
    path.write_text(text.replace("allow_http: true,", "allow_http: true, per_page: 5,"))
    quick = with_env(operator, LEDGERBRIDGE_PROGRESS_EVERY="0", LEDGERBRIDGE_LOG_FORMAT="json")
    done = quick.cli("sync", "west-orders", code=ExitCode.PARKED)
    seen = progress_of(json_lines(done.stderr), "west-orders")
    assert seen[0]["total"] == 12 and seen[0]["done"] == 0, seen[:2]
    assert seen[-1]["done"] == seen[-1]["total"] == 12, seen[-1]
