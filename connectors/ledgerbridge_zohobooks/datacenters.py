"""Zoho's data centres: the API host and the accounts (OAuth) host of each.

Hosts are looked up, never derived by string substitution: Canada's accounts
host is ``accounts.zohocloud.ca``, not ``accounts.zoho.ca``.  The same table is
the allow-list for the ``accounts-server`` redirect parameter and the
``api_domain`` of token responses, which arrive from outside and could
otherwise send the client secret or tokens to a forged host.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.errors import AuthFailed


@dataclass(frozen=True)
class DataCenter:
    code: str
    api_domain: str
    accounts_server: str

    @property
    def api_base(self) -> str:
        return f"{self.api_domain}/books/v3"


DATA_CENTERS: dict[str, DataCenter] = {
    dc.code: dc
    for dc in (
        DataCenter("com", "https://www.zohoapis.com", "https://accounts.zoho.com"),
        DataCenter("eu", "https://www.zohoapis.eu", "https://accounts.zoho.eu"),
        DataCenter("in", "https://www.zohoapis.in", "https://accounts.zoho.in"),
        DataCenter("com.au", "https://www.zohoapis.com.au", "https://accounts.zoho.com.au"),
        DataCenter("jp", "https://www.zohoapis.jp", "https://accounts.zoho.jp"),
        DataCenter("ca", "https://www.zohoapis.ca", "https://accounts.zohocloud.ca"),
        DataCenter("com.cn", "https://www.zohoapis.com.cn", "https://accounts.zoho.com.cn"),
        DataCenter("sa", "https://www.zohoapis.sa", "https://accounts.zoho.sa"),
        # United Kingdom: the accounts host is on Zoho's own Multi-DC page
        # (https://zoho.com/accounts/protocol/oauth/multi-dc.html, "United Kingdom (UK)
        # https://accounts.zoho.uk"; facts doc §1.1); Books' introduction page does not list
        # it yet, while two Books integrations do (Devart dotConnect's ZohoBooksDataCenter.UK,
        # https://docs.devart.com/dotconnect/zohobooks/Devart.Data.ZohoBooks~Devart.Data.ZohoBooks.ZohoBooksDataCenter.html;
        # Apideck's Books guide naming the .uk API domain,
        # https://www.apideck.com/blog/how-to-integrate-with-the-zoho-books-api). The API
        # host follows every other centre's pattern; a token response's api_domain wins.
        DataCenter("uk", "https://www.zohoapis.uk", "https://accounts.zoho.uk"),
    )
}

KNOWN_API_DOMAINS = frozenset(dc.api_domain for dc in DATA_CENTERS.values())
KNOWN_ACCOUNTS_SERVERS = frozenset(dc.accounts_server for dc in DATA_CENTERS.values())


def data_center(code: str) -> DataCenter:
    try:
        return DATA_CENTERS[code]
    except KeyError:
        raise AuthFailed(
            f"unknown Zoho data centre {code!r}; expected one of {', '.join(DATA_CENTERS)}",
            platform="zohobooks",
        ) from None


def _trusted(candidate: str, known: frozenset[str], extra: frozenset[str], refusal: str) -> str:
    host = candidate.rstrip("/")
    if host in known or host in extra:
        return host
    raise AuthFailed(refusal.format(candidate=candidate), platform="zohobooks")


def trusted_api_domain(candidate: str, *, extra: frozenset[str] = frozenset()) -> str:
    """``candidate`` if it is a Zoho API domain (or an explicitly configured override)."""
    return _trusted(
        candidate,
        KNOWN_API_DOMAINS,
        extra,
        "the token response named api_domain {candidate!r}, which is not a Zoho data centre; "
        "refusing to send tokens there",
    )


def trusted_accounts_server(candidate: str, *, extra: frozenset[str] = frozenset()) -> str:
    """``candidate`` if it is a Zoho accounts host (checked before any client secret is sent)."""
    return _trusted(
        candidate,
        KNOWN_ACCOUNTS_SERVERS,
        extra,
        "accounts-server {candidate!r} is not a Zoho accounts host; refusing to send the "
        "client secret there (possible forged redirect)",
    )
