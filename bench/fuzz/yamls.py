"""Mutated configuration and mapping files, and the loaders' property.

Seeds are the files the project ships (``examples/``, ``demo/``, ``mappings/``);
mutations work on the text -- a character changed, a line dropped or repeated, a
hostile snippet inserted (anchors and aliases, tags, merge keys, duplicate keys,
``${ENV}`` references, templates, long lines).  The property (``violation``):
``load_config`` / ``load_mapping`` either load or raise ``ConfigError`` whose every
problem has a ``file:line:column`` position, in under a second -- never another
exception.

``KNOWN`` are the inputs that break that today and are bounded by the YAML
hardening (NUL and non-UTF-8 bytes, alias expansion, and -- found by this fuzzer --
very deep nesting, integers over 4,300 digits, impossible dates); generic mutations avoid them
so that the two are told apart.
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ledgerbridge.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

SNIPPETS = [
    "anchor: &a [x, y]",
    "alias: *a",
    "undefined: *nope",
    "<<: {x: 1}",
    "self: &s\n  - *s",
    "obj: !!python/object/apply:os.system ['echo pwned']",
    "bin: !!binary 'AAAA'",
    "set: !!set {a, b}",
    "? [complex, key]\n: value",
    "%YAML 1.1",
    "---",
    "...",
    "version: 2",
    "tenants: []",
    "tenants: {}",
    "tenants: 7",
    "pipelines: [{id: x}]",
    "mapping: ../../../../etc/passwd",
    "mapping: /dev/zero",
    "extends: /etc/passwd",
    "extends: woocommerce-to-zohobooks",
    "database: sqlite:////proc/self/mem",
    "secrets: {api_key: ${UNDEFINED_LEDGERBRIDGE_FUZZ_VAR}}",
    "value: ${X:-${Y:-z}}",
    "value: $${NOT_A_REF}",
    'expr: "{{ order.__class__.__mro__ }}"',
    "expr: \"{{ lookup('nope', order.number) }}\"",
    'expr: "{% for x in range(10) %}{{ x }}{% endfor %}"',
    "long: " + "x" * 100_000,
    "key: " + "[" * 40 + "]" * 40,
    "\t- tab",
    "- just: a list",
    "'quoted key': \"unterminated",
    "big: 12345678901234567890123456789012345678901234567890",
    "nan: .nan",
    "inf: -.inf",
    "emoji: 😀😀",
    "rtl: \u202eevil",
    "interval: -5m",
    "interval: 99999999999d",
    "posting_policy: sideways",
]
"""Inserted at a random line, at a random indentation."""

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 :{}[],-#&*!|>'\"%@`?\n$.~=+_/\\<>"


@dataclass(frozen=True)
class Seed:
    kind: str  # "config" or "mapping"
    name: str
    text: str


def seeds() -> list[Seed]:
    found = [
        Seed(
            "config",
            "examples/ledgerbridge.yaml",
            (REPO / "examples/ledgerbridge.yaml").read_text(),
        ),
        Seed("config", "demo/ledgerbridge.yaml", (REPO / "demo/ledgerbridge.yaml").read_text()),
    ]
    for path in sorted((REPO / "mappings").glob("*.yaml")):
        found.append(Seed("mapping", f"mappings/{path.name}", path.read_text()))
    for path in sorted((REPO / "demo/mappings").glob("*.yaml")):
        found.append(Seed("mapping", f"demo/mappings/{path.name}", path.read_text()))
    return found


def prepare(root: Path) -> None:
    """What the seeds refer to, beside the file under test (``mappings/*.yaml``)."""
    target = root / "mappings"
    if not target.exists():
        shutil.copytree(REPO / "demo" / "mappings", target)


def mutate(rng: random.Random, text: str, count: int = 1) -> str:
    """``text`` with ``count`` random text mutations."""
    for _ in range(count):
        lines = text.split("\n")
        op = rng.choice(["char", "char", "delete", "duplicate", "snippet", "snippet", "indent"])
        i = rng.randrange(len(lines))
        if op == "char" and text:
            pos = rng.randrange(len(text))
            text = text[:pos] + rng.choice(ALPHABET) + text[pos + 1 :]
            continue
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " * rng.choice([1, 2, 3, 4, 8]) + lines[i]
        else:
            indent = " " * rng.choice([0, 0, 2, 4, 6])
            snippet = rng.choice(SNIPPETS).replace("\n", "\n" + indent)
            lines.insert(i, indent + snippet)
        text = "\n".join(lines)
    return text


def violation(kind: str, path: Path, *, limit: float = 1.0) -> str | None:
    """What is wrong with loading ``path`` -- None when it loads or is refused properly."""
    from ledgerbridge.config import load_config
    from ledgerbridge.mapping.loader import load_mapping

    started = time.perf_counter()
    try:
        (load_config if kind == "config" else load_mapping)(path)
    except ConfigError as exc:
        unplaced = [str(loc) for loc, _ in exc.problems if loc.line is None]
        if unplaced:
            return f"ConfigError without a line: {unplaced[0]}"
    except RecursionError:
        return "crash: RecursionError"
    except Exception as exc:
        return f"crash: {type(exc).__name__}: {str(exc)[:120]}"
    elapsed = time.perf_counter() - started
    if elapsed > limit:
        return f"slow: {elapsed:.2f}s"
    return None


KNOWN = {
    "nul-byte": b"version: 1\x00\n",
    "non-utf8": b"version: 1\ntenants:\n  - id: caf\xe9\n",
    "billion-laughs": (
        b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        b"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    ),
    "deep-nesting": b"version: " + b"[" * 1000 + b"]" * 1000 + b"\n",
    "huge-integer": b"version: " + b"9" * 5000 + b"\n",
    "invalid-date": b"version: 1\nsince: 2026-02-30\n",
}
"""Inputs that break the property today (NUL/non-UTF-8: traceback; alias expansion:
minutes and gigabytes; depth: RecursionError after seconds; 5,000 digits: ValueError;
a date that does not exist, ``2026-02-30``: ValueError from the YAML timestamp)."""


class _Slow(BaseException):  # not caught by violation(): it is the alarm
    pass


def bounded(kind: str, path: Path, *, limit: float = 1.0) -> str | None:
    """``violation`` in this process, interrupted after ``2 * limit`` seconds (main thread
    only: SIGALRM).  For inputs that are slow but not memory-hungry."""
    import signal

    def stop(*_: object) -> None:
        raise _Slow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 2 * limit)
    try:
        return violation(kind, path, limit=limit)
    except _Slow:
        return f"slow: still loading after {2 * limit:.0f}s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


MEMORY_HUNGRY = {"billion-laughs"}
"""Known files that can exhaust memory: loaded in a child process (``isolated``)."""


def isolated(kind: str, path: Path, *, limit: float = 1.0, memory: int = 1 << 30) -> str | None:
    """``violation`` in a child process bounded in memory, stopped after ``2 * limit`` seconds
    of loading: for inputs that may hang or exhaust the machine (alias expansion)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, resource, signal, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
        "from pathlib import Path\n"
        "from bench.fuzz.yamls import violation\n"
        "def stop(*_):\n"
        "    print(json.dumps(f'slow: still loading after {2 * float(sys.argv[3]):.0f}s'))\n"
        "    sys.stdout.flush()\n"
        "    import os; os._exit(0)\n"
        # the plugins are imported before the clock starts: the bound is on loading the file,
        # not on importing the connectors (seconds on a loaded machine)
        "from ledgerbridge.plugins import get_registry\n"
        "get_registry()\n"
        # and the loaders themselves (the config loader now imports the catalog layer)
        "import ledgerbridge.config, ledgerbridge.mapping.loader\n"
        "signal.signal(signal.SIGALRM, stop)\n"
        "signal.setitimer(signal.ITIMER_REAL, 2 * float(sys.argv[3]))\n"
        "found = violation(sys.argv[1], Path(sys.argv[2]), limit=float(sys.argv[3]))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "print(json.dumps(found))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, kind, str(path), str(limit)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "slow: the child did not finish in 120s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"crash: exit {done.returncode}: {last[:120]}"
    result: str | None = json.loads(done.stdout.strip().splitlines()[-1])
    return result
