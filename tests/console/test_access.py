"""Who may see and do what in the console: log-in, roles, tenant scoping (404 for another
tenant's ids, nothing of it in lists), CSRF, signed expiring sessions, the trusted header."""

from __future__ import annotations

import dataclasses
import time

import anyio

import ledgerbridge.console
from ledgerbridge.config import load_config
from ledgerbridge.config.schema import ConsoleConfig, ConsoleUserConfig
from ledgerbridge.console.auth import SESSION_COOKIE, Sessions, hash_password
from ledgerbridge.store import console_queries as q

from .conftest import PASSWORD, Client, World, csrf_of

# Every test here checks reads and refusals: none changes the world, so they share one.


def test_pages_need_a_log_in_and_a_wrong_password_gets_none(shared_world: World) -> None:
    world = shared_world

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            page = await client.get("/records")
            assert page.status_code == 303
            assert page.headers["location"].startswith("/console/login")
            wrong = await client.login("olga", "not the password")
            assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
            unknown = await client.login("mallory")
            assert unknown.status_code == 401 and "wrong user name or password" in unknown.text
            assert SESSION_COOKIE not in client.http.cookies
            assert (await client.get("/")).status_code == 303
            ok = await client.login("olga")
            assert ok.status_code == 303 and ok.headers["location"] == "/console/"
            overview = await client.get("/")
            assert overview.status_code == 200 and "west-orders" in overview.text
        finally:
            await client.aclose()

    anyio.run(main)


def test_log_in_without_the_forms_token_is_refused(shared_world: World) -> None:
    world = shared_world

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            answer = await client.post("/login", {"username": "olga", "password": PASSWORD})
            assert answer.status_code == 401 and "expired" in answer.text
            assert SESSION_COOKIE not in client.http.cookies
        finally:
            await client.aclose()

    anyio.run(main)


def test_an_operator_of_another_tenant_sees_nothing_of_west(shared_world: World) -> None:
    world = shared_world
    parked = world.parked_id()

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("nils")  # operator of north
            csrf = await client.csrf()
            mine = await client.get(f"/records/{parked}")
            missing = await client.get("/records/987654")
            assert mine.status_code == missing.status_code == 404
            assert mine.text == missing.text  # the id's existence is not confirmed either
            listed = await client.get("/records")
            assert "west-orders" not in listed.text and "1001" not in listed.text
            assert "No records match" in listed.text
            assert "west" not in (await client.get("/")).text
            assert "Nothing parked" in (await client.get("/failures")).text
            assert (await client.get("/audit.csv", params={"tenant": "west"})).status_code == 404
            replay = await client.post(f"/records/{parked}/replay", {"csrf": csrf})
            assert replay.status_code == 404
            group = await client.post(
                "/failures/replay",
                {"csrf": csrf, "state": "needs_mapping", "error_class": "NeedsMapping",
                 "key": "payment_method:ppcp-gateway"},
            )  # fmt: skip
            assert group.status_code == 404
        finally:
            await client.aclose()

    anyio.run(main)
    assert q.record_in(world.store, parked, ["west-orders"]).state == "needs_mapping"  # type: ignore[union-attr]


def test_a_viewer_reads_but_cannot_replay(shared_world: World) -> None:
    world = shared_world
    parked = world.parked_id()

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("vera")
            page = await client.get(f"/records/{parked}")
            assert page.status_code == 200 and "payment_method:ppcp-gateway" in page.text
            assert "Replay this record" not in page.text
            csrf = await client.csrf()
            refused = await client.post(f"/records/{parked}/replay", {"csrf": csrf})
            assert refused.status_code == 403 and "operator role" in refused.text
        finally:
            await client.aclose()

    anyio.run(main)
    assert q.record_in(world.store, parked, ["west-orders"]).state == "needs_mapping"  # type: ignore[union-attr]
    assert not [
        e for e in q.record_events(world.store, parked) if e.operation.startswith("operator")
    ]


def test_a_post_without_the_sessions_csrf_token_is_refused(shared_world: World) -> None:
    world = shared_world
    parked = world.parked_id()

    async def main() -> None:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        other = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            await client.login("olga")
            await other.login("olga")
            foreign = await other.csrf()  # a valid token, of another session
            for data in ({}, {"csrf": ""}, {"csrf": "guessed"}, {"csrf": foreign}):
                answer = await client.post(f"/records/{parked}/replay", data)
                assert answer.status_code == 403, data
                assert "CSRF token is missing or stale" in answer.text
        finally:
            await client.aclose()
            await other.aclose()

    anyio.run(main)
    assert q.record_in(world.store, parked, ["west-orders"]).state == "needs_mapping"  # type: ignore[union-attr]
    assert not [
        e for e in q.record_events(world.store, parked) if e.operation.startswith("operator")
    ]


def test_sessions_are_signed_and_expire() -> None:
    sessions = Sessions("key-one", ttl_seconds=60)
    cookie, csrf = sessions.issue("olga")
    assert sessions.read(cookie) == {"u": "olga", "csrf": csrf}
    assert Sessions("another-key", ttl_seconds=60).read(cookie) is None  # forged
    assert sessions.read(cookie[:-2] + "xx") is None  # tampered
    later = time.time() + 61
    real = time.time
    try:
        time.time = lambda: later  # type: ignore[assignment]
        assert sessions.read(cookie) is None  # expired
    finally:
        time.time = real  # type: ignore[assignment]


def test_a_trusted_header_logs_in_only_when_configured_and_only_known_users(
    shared_world: World,
) -> None:
    world = shared_world
    loaded = load_config(world.config_path)
    behind_proxy = dataclasses.replace(
        loaded,
        config=loaded.config.model_copy(
            update={"console": ConsoleConfig(trusted_header="X-Forwarded-User")}
        ),
    )

    async def main() -> None:
        plain = Client(ledgerbridge.console.app(loaded, world.store))
        proxied = Client(ledgerbridge.console.app(behind_proxy, world.store))
        try:
            ignored = await plain.get("/", headers={"X-Forwarded-User": "ada"})
            assert ignored.status_code == 303  # off by default: the header means nothing
            page = await proxied.get("/", headers={"X-Forwarded-User": "olga"})
            assert page.status_code == 200 and "olga (operator)" in page.text
            stranger = await proxied.get("/", headers={"X-Forwarded-User": "mallory"})
            assert stranger.status_code == 303
        finally:
            await plain.aclose()
            await proxied.aclose()

    anyio.run(main)


def test_users_in_the_config_log_in_with_their_hash(shared_world: World) -> None:
    world = shared_world
    loaded = load_config(world.config_path)
    user = ConsoleUserConfig(
        username="cfg-user",
        password_hash=hash_password("config password"),  # type: ignore[arg-type]
        role="viewer",
        tenants=["west"],
    )
    configured = dataclasses.replace(
        loaded,
        config=loaded.config.model_copy(update={"console": ConsoleConfig(users=[user])}),
    )

    async def main() -> None:
        client = Client(ledgerbridge.console.app(configured, world.store))
        try:
            assert (await client.login("cfg-user", "wrong password")).status_code == 401
            assert (await client.login("cfg-user", "config password")).status_code == 303
            assert "cfg-user (viewer)" in (await client.get("/")).text
        finally:
            await client.aclose()

    anyio.run(main)


def test_a_console_section_in_the_yaml_config_is_read(shared_world: World) -> None:
    """Users and the signing key written in ``ledgerbridge.yaml`` (an argon2 hash's ``$``
    signs survive the config's ``${ENV}`` interpolation)."""
    world = shared_world
    hashed = hash_password("yaml password")
    path = world.config_path.with_name("with-console.yaml")
    path.write_text(
        world.config_path.read_text()
        + "console:\n"
        + "  secret_key: ${LEDGERBRIDGE_CONSOLE_KEY}\n"
        + "  session_ttl: 1h\n"
        + "  users:\n"
        + f"    - {{username: yaml-user, password_hash: '{hashed}', role: operator, tenants: [west]}}\n"
    )
    loaded = load_config(path)
    assert loaded.config.console.session_ttl.total_seconds() == 3600
    [user] = loaded.config.console.users
    assert user.password_hash.get_secret_value() == hashed

    async def main() -> None:
        client = Client(ledgerbridge.console.app(path, world.store))
        try:
            assert (await client.login("yaml-user", "yaml password")).status_code == 303
            assert "yaml-user (operator)" in (await client.get("/")).text
        finally:
            await client.aclose()

    anyio.run(main)


def test_after_log_in_it_goes_back_only_to_its_own_pages(shared_world: World) -> None:
    world = shared_world

    async def after_login(next_url: str) -> str:
        client = Client(ledgerbridge.console.app(world.config_path, world.store))
        try:
            form = await client.get("/login", params={"next": next_url})
            answer = await client.post(
                "/login",
                {"csrf": csrf_of(form.text), "username": "olga", "password": PASSWORD,
                 "next": next_url},
            )  # fmt: skip
            assert answer.status_code == 303
            return answer.headers["location"]
        finally:
            await client.aclose()

    async def main() -> list[str]:
        return [
            await after_login(url)
            for url in ("/console/records", "https://evil.example/", "//evil.example/",
                        "/console/\\\\evil.example", "/elsewhere")
        ]  # fmt: skip

    assert anyio.run(main) == ["/console/records"] + ["/console/"] * 4
