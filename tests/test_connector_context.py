"""``ConnectorContext.as_models``: a connector's settings and secrets, typed."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from ledgerbridge.contracts import ConnectorContext


class Settings(BaseModel, extra="forbid"):
    url: str
    per_page: int = 100


class Secrets(BaseModel, extra="forbid"):
    token: SecretStr | None = None


class Loose(BaseModel, extra="allow"):
    pass


def test_own_models_pass_as_they_are_and_others_are_validated_again() -> None:
    settings, secrets = Settings(url="https://a"), Secrets(token="t")
    context = ConnectorContext("c", "t", settings=settings, secrets=secrets)
    assert context.as_models(Settings, Secrets) == (settings, secrets)
    assert context.as_models(Settings, Secrets)[0] is settings

    other = ConnectorContext("c", "t", settings=Loose(url="https://b"), secrets=Loose(token="x"))
    got, kept = other.as_models(Settings, Secrets)
    assert got == Settings(url="https://b") and kept.token is not None
    assert kept.token.get_secret_value() == "x"

    wrong = ConnectorContext("c", "t", settings=Loose(url=1), secrets=Loose())
    with pytest.raises(ValidationError):
        wrong.as_models(Settings, Secrets)
