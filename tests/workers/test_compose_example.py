"""The deployment guide's docker-compose example and command lines, checked without Docker.

Docker is not available where the project is tested, so the compose file is parsed and
what it names is checked against the product: every ``ledgerbridge`` command line (compose
``command:``, the shell walks, the systemd ``ExecStart=``) parses with the CLI's own
options; the environment variables are the ones the product reads; services, volumes,
ports and the database URL agree with each other; one-shot ``migrate`` is waited for.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from ledgerbridge.cli import app
from ledgerbridge.store.secrets import KEY_ENV
from ledgerbridge.worker.settings import BROKER_ENV, REDIS_ENV

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    [block] = [b for b in _blocks("yaml") if b.lstrip().startswith("services:")]
    loaded = yaml.safe_load(block)
    assert isinstance(loaded, dict)
    return loaded


def _parse(argv: list[str]) -> Any:
    """Parse a ``ledgerbridge ...`` command line as the CLI would (unknown options raise)."""
    assert argv[0].endswith("ledgerbridge"), argv
    group: Any = typer.main.get_command(app)  # typer's own click
    root = group.make_context("ledgerbridge", argv[1:2], resilient_parsing=False)
    command = group.get_command(root, argv[1])
    assert command is not None, f"no command {argv[1]!r}"
    return command.make_context(argv[1], argv[2:], parent=root)


def _command_lines() -> list[list[str]]:
    lines: list[list[str]] = []
    for block in _blocks("sh"):
        for line in block.splitlines():
            code = line.split("#", 1)[0].strip().rstrip("&").strip()
            if code.startswith("ledgerbridge "):
                lines.append(shlex.split(code))
    for block in _blocks("ini"):
        lines += [
            shlex.split(m) for m in re.findall(r"^ExecStart=(\S+.*?)\s*(?:#.*)?$", block, re.M)
        ]
    lines += [
        shlex.split(m.strip("`")) for m in re.findall(r"`ExecStart=([^`]+)`", GUIDE.read_text())
    ]
    return lines


def test_every_command_line_of_the_guide_parses() -> None:
    lines = _command_lines()
    assert {argv[1] for argv in lines} >= {"migrate", "worker", "beat", "serve", "status"}
    for argv in lines:
        _parse(argv)


def test_a_misspelt_option_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such option") as caught:
        _parse(["ledgerbridge", "worker", "--concurency", "4"])
    assert type(caught.value).__name__ == "NoSuchOption"


def test_the_compose_services_run_commands_the_cli_has(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ours = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("ledgerbridge")}
    assert set(ours) == {"migrate", "worker", "beat", "serve"}
    commands = {name: _parse(shlex.split(s["command"])) for name, s in ours.items()}
    assert commands["serve"].params["host"] == "0.0.0.0"  # reachable from outside the container
    port = commands["serve"].params["port"]
    assert services["serve"]["ports"] == [f"{port}:{port}"]
    for name in ("worker", "beat", "serve"):
        assert Path(commands[name].params["config"]) == Path("/config/ledgerbridge.yaml")
        assert "./config:/config:ro" in services[name]["volumes"]


def test_the_environment_is_what_the_product_reads(compose: dict[str, Any]) -> None:
    services = compose["services"]
    names = {name for s in services.values() for name in (s.get("environment") or {})}
    ours = {BROKER_ENV, REDIS_ENV}
    assert {n for n in names if n.startswith("LEDGERBRIDGE_")} == ours
    for name in ("worker", "beat", "serve"):
        env = services[name]["environment"]
        assert set(env) == ours
        for url in env.values():  # the Redis service, on its port
            parts = urlsplit(url)
            assert parts.scheme == "redis" and parts.hostname in services and parts.port == 6379
        assert services[name]["env_file"] == "ledgerbridge.env"  # LEDGERBRIDGE_SECRET_KEY
    assert KEY_ENV == "LEDGERBRIDGE_SECRET_KEY"


def test_the_database_url_names_the_postgres_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    database = _parse(shlex.split(services["migrate"]["command"])).params["database"]
    url = urlsplit(database)
    env = services["postgres"]["environment"]
    assert url.hostname == "postgres" and url.password == env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == env["POSTGRES_DB"]
    assert f"`database:` in `ledgerbridge.yaml` is then `{database}`" in GUIDE.read_text()


def test_services_start_in_order_and_restart(compose: dict[str, Any]) -> None:
    """A plain list ``depends_on`` waits only for a start: the workers could meet no schema."""
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in services["postgres"]
    for name in ("worker", "beat", "serve"):
        after = services[name]["depends_on"]
        assert after["migrate"] == {"condition": "service_completed_successfully"}
        assert set(after) <= set(services)
        assert services[name]["restart"] == "unless-stopped"
    volumes = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert {v for v in volumes if not v.startswith(".")} == set(compose["volumes"])
