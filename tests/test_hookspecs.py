"""Every hook is documented: in its docstring and in docs/plugins.md."""

import inspect
from pathlib import Path

from ledgerbridge import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "ledgerbridge_spec")
    ]


def test_there_are_hooks():
    assert {"register_sources", "register_targets", "register_commands"} <= set(hook_names())


def test_every_hook_has_a_docstring():
    missing = [n for n in hook_names() if not (getattr(hookspecs, n).__doc__ or "").strip()]
    assert missing == [], f"hooks without a docstring: {missing}"


def test_every_hook_is_documented_in_docs_plugins_md():
    text = DOCS.read_text()
    missing = [n for n in hook_names() if f"## {n}(" not in text]
    assert missing == [], (
        f"hooks missing from docs/plugins.md (add a '## name(...)' section): {missing}"
    )
