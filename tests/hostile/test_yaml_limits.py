"""Hostile YAML: a few hundred bytes of aliases ("billion laughs"), a file of thousands of
unknown keys, nesting, size, bytes that are not UTF-8 and characters YAML forbids --
each refused with file:line:column, fast, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledgerbridge.config import load_config
from ledgerbridge.errors import ConfigError
from ledgerbridge.mapping.loader import load_mapping
from ledgerbridge.yamlfile import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_REPORTED_PROBLEMS, load_yaml

REPO = Path(__file__).resolve().parents[2]


def laughs(first_line: str) -> str:
    lines = [first_line, 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.mark.parametrize("command", ["check", "mappings validate"])
def test_billion_laughs_is_refused_with_its_position_in_under_a_second(
    tmp_path: Path, command: str
) -> None:
    path = tmp_path / "laughs.yaml"
    first = "version: 1" if command == "check" else "extends: shopify-to-zohobooks"
    path.write_text(laughs(first))
    assert len(path.read_bytes()) < 400
    args = ["check", "-c", str(path)] if command == "check" else ["mappings", "validate", str(path)]
    done = cli(*args)  # used to run past 40 s and 870 MB
    assert done.returncode == (6 if command == "check" else 1), done.stderr  # 6: CONFIG
    assert f"{path}:7:1: invalid YAML: expands to" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    started = time.perf_counter()
    with pytest.raises(ConfigError):
        (load_config if command == "check" else load_mapping)(path)
    assert time.perf_counter() - started < 1.0


def test_thousands_of_unknown_mapping_keys_are_reported_fast_and_capped(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    keys = 5000
    path.write_text(
        "extends: shopify-to-zohobooks\n" + "".join(f"unknown_{i}: {i}\n" for i in range(keys))
    )
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)  # used to take O(keys^2): ~16 s for 5,000, 265 s for 20,000
    elapsed = time.perf_counter() - started
    problems = caught.value.problems
    assert len(problems) == MAX_REPORTED_PROBLEMS + 1
    assert (str(problems[0][0]), problems[0][1]) == (
        f"{path}:2:1",
        "unknown_0: unknown key 'unknown_0'",
    )
    assert problems[-1][1] == f"... and {keys - MAX_REPORTED_PROBLEMS} more problem(s) not listed"
    assert elapsed < 5.0, elapsed


def test_thousands_of_unknown_config_keys_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text("version: 1\ntenants: []\n" + "".join(f"k{i}: {i}\n" for i in range(3000)))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == MAX_REPORTED_PROBLEMS + 1
    assert str(caught.value.problems[0][0]) == f"{path}:3:1"


def test_a_file_over_the_size_limit_is_refused_without_parsing_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\n" + "# padding\n" * (MAX_DOCUMENT_BYTES // 10 + 1))
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="larger than") as caught:
        load_yaml(path)
    assert time.perf_counter() - started < 1.0
    assert str(caught.value.problems[0][0]) == f"{path}:1:1"


def test_nesting_deeper_than_the_limit_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)  # used to be a RecursionError
    assert time.perf_counter() - started < 1.0
    [(where, message)] = caught.value.problems
    assert (where.file, where.line) == (str(path), 2)
    assert message == f"invalid YAML: nested deeper than {MAX_DEPTH} levels"
    block = "".join(" " * level + "k:\n" for level in range(MAX_DEPTH + 5))
    with pytest.raises(ConfigError, match="nested deeper than"):
        load_yaml(path, text=block)
    load_yaml(path, text="x: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2))  # within
    quoted = load_yaml(path, text="note: '" + "[" * 500 + "'\n").data  # text, not nesting
    assert quoted == {"note": "[" * 500}


@pytest.mark.parametrize(
    ("content", "position", "message"),
    [
        (b"version: 1\n# caf\xe9\n", "2:6", "the file is not UTF-8: byte 0xe9 cannot be read"),
        (b"version: 1\nname: d\xc3\xa9j\xe0 vu\n", "2:10", "byte 0xe0 cannot be read"),
        ("version: 1\n".encode("utf-16"), "1:1", "the file is UTF-16; save it as UTF-8"),
        (b"version: 1\ntenants: \x00[]\n", "2:10", "character U+0000 is not allowed"),
        (b'version: 1\nname: "a\x07b"\n', "2:9", "character U+0007 is not allowed"),
    ],
)
def test_bytes_yaml_cannot_hold_are_reported_with_their_position(
    tmp_path: Path, content: bytes, position: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    [(where, text)] = caught.value.problems
    assert str(where) == f"{path}:{position}"
    assert message in text


def test_check_reports_a_nul_byte_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "ledgerbridge.yaml"
    path.write_bytes(b"version: 1\ntenants: []\nname: \x00\n")
    done = cli("check", "-c", str(path))
    assert done.returncode == 6  # ExitCode.CONFIG
    assert "Traceback" not in done.stderr, done.stderr
    assert f"{path}:3:7" in done.stderr


def test_a_bom_at_the_start_of_a_utf8_file_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")
    assert load_yaml(path).data == {"version": 1}


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("version: 1\nsince: 2026-02-30\n", (2, 8), "day is out of range"),
        ("version: " + "9" * 5000 + "\n", (1, 10), "Exceeds the limit"),
    ],
)
def test_a_value_python_cannot_build_is_reported_at_its_position(
    tmp_path: Path, text: str, where: tuple[int, int], what: str
) -> None:
    """A date that does not exist or an integer of 5,000 digits: YAML resolves them, Python's
    constructors raise ``ValueError`` without a position (found by the fuzzer)."""
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    [(location, message)] = caught.value.problems
    assert (location.line, location.column) == where and what in message
