"""A daily_summary pipeline has no posting trigger: ``ledgerbridge check`` says so.

A daily summary books each day's sales and money when the day closes, whatever has
shipped or been captured by then (docs/engine.md, "Posting triggers"): a ``paid`` or
``fulfilled`` trigger on it would be silently ignored, so the config is refused with
the trigger's ``file:line:column`` -- whether the pipeline names the policy or its
mapping does.  Through the real CLI (a subprocess), like a user.
"""

from __future__ import annotations

from pathlib import Path

from .test_cli import run


def starter(tmp_path: Path) -> Path:
    assert run("init", cwd=tmp_path).returncode == 0
    return tmp_path / "ledgerbridge.yaml"


def test_check_refuses_a_trigger_on_a_daily_summary_pipeline(tmp_path: Path):
    config = starter(tmp_path)
    text = config.read_text().replace(
        "        posting_policy: invoice         # invoice | sales_receipt | daily_summary\n",
        "        posting_policy: daily_summary\n        posting_trigger: fulfilled\n",
    )
    config.write_text(text)
    line = text.splitlines().index("        posting_trigger: fulfilled") + 1
    out = run("check", cwd=tmp_path)
    assert out.returncode == 6, out.stdout  # ExitCode.CONFIG
    assert (
        f"ledgerbridge.yaml:{line}:26: posting_trigger "
        "'fulfilled' does not apply to a daily_summary pipeline" in out.stderr
    ), out.stderr
    # The sync refuses the same config: it never runs with the trigger ignored.
    synced = run("sync", cwd=tmp_path)
    assert synced.returncode == 6 and "does not apply to a daily_summary" in synced.stderr


def test_check_refuses_a_trigger_when_the_mapping_names_daily_summary(tmp_path: Path):
    config = starter(tmp_path)
    (tmp_path / "daily.yaml").write_text(
        "extends: shopify-to-zohobooks\nposting_policy: daily_summary\n"
    )
    text = config.read_text().replace(
        "        mapping: shopify-to-zohobooks   # a shipped preset, or a path to your own YAML\n"
        "        posting_policy: invoice         # invoice | sales_receipt | daily_summary\n",
        "        mapping: daily.yaml\n        posting_trigger: paid\n",
    )
    assert "posting_trigger: paid" in text
    config.write_text(text)
    line = text.splitlines().index("        posting_trigger: paid") + 1
    out = run("check", cwd=tmp_path)
    assert out.returncode == 6, out.stdout
    assert (
        f"ledgerbridge.yaml:{line}:26: posting_trigger "
        "'paid' does not apply to a daily_summary pipeline (its mapping daily.yaml" in out.stderr
    ), out.stderr


def test_check_accepts_the_default_trigger_on_a_daily_summary_pipeline(tmp_path: Path):
    config = starter(tmp_path)
    text = config.read_text().replace(
        "posting_policy: invoice ",
        "posting_policy: daily_summary\n        posting_trigger: placed #",
    )
    config.write_text(text)
    out = run("check", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "daily_summary" in out.stdout
