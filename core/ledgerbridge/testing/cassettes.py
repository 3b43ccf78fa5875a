"""vcrpy cassettes with secrets scrubbed before anything is written.

Every value listed in ``secrets`` (tokens, keys, client secrets, organisation
ids) is replaced by its placeholder wherever it appears -- URL, headers, body
of requests and responses. A request's credential headers stay, their values
replaced by placeholders (``Authorization: Zoho-oauthtoken <ACCESS_TOKEN>``,
``x-api-key: <API_KEY>``), so a recorded request still shows -- and can be
validated against -- the API's security scheme; credential headers of
responses (cookies) are dropped. ``assert_scrubbed`` proves that no listed
secret survives in a cassette file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

CREDENTIAL_HEADERS = (
    "authorization",
    "x-shopify-access-token",
    "x-api-key",
    "x-store-key",
    "cookie",
    "set-cookie",
)


# A request's credential header -> the placeholder its value becomes (whatever it was).
PLACEHOLDERS = {
    "authorization": "<ACCESS_TOKEN>",
    "x-shopify-access-token": "<ACCESS_TOKEN>",
    "x-api-key": "<API_KEY>",
    "x-store-key": "<STORE_KEY>",
    "cookie": "<COOKIE>",
}


def credential_placeholder(name: str, value: str) -> str:
    """The recorded value of credential header ``name``: its placeholder; an
    ``Authorization`` value keeps its scheme word (``Bearer``, ``Zoho-oauthtoken``)."""
    placeholder = PLACEHOLDERS.get(name.lower(), "<SECRET>")
    if name.lower() == "authorization" and " " in value.strip():
        scheme = value.strip().split()[0]
        return f"{scheme} {'<CREDENTIALS>' if scheme.lower() == 'basic' else placeholder}"
    return placeholder


def _replace_all(text: str, secrets: Mapping[str, str]) -> str:
    for value, placeholder in secrets.items():
        if value:
            text = text.replace(value, placeholder)
    return text


def _scrub_body(body: Any, secrets: Mapping[str, str]) -> Any:
    if body is None:
        return None
    if isinstance(body, bytes):
        return _replace_all(body.decode("utf-8", "replace"), secrets).encode()
    if isinstance(body, str):
        return _replace_all(body, secrets)
    return body


def scrubbing_vcr(
    cassette_dir: str | Path,
    secrets: Mapping[str, str],
    *,
    record_mode: str = "none",
    extra_headers: tuple[str, ...] = (),
) -> Any:
    """A ``vcr.VCR`` that scrubs ``secrets`` (value -> placeholder) from every interaction."""
    import vcr

    def before_request(request: Any) -> Any:
        request.uri = _replace_all(request.uri, secrets)
        request.body = _scrub_body(request.body, secrets)
        for name in list(request.headers):
            value = str(request.headers[name])
            if name.lower() in PLACEHOLDERS or name.lower() in extra_headers:
                request.headers[name] = credential_placeholder(name, value)
            else:
                request.headers[name] = _replace_all(value, secrets)
        return request

    def before_response(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {})
        if "string" in body:
            body["string"] = _scrub_body(body["string"], secrets)
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in CREDENTIAL_HEADERS + extra_headers:
                del headers[name]
            else:
                headers[name] = [_replace_all(str(v), secrets) for v in headers[name]]
        return response

    return vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        # Request credential headers are kept as placeholders (before_request), not dropped.
        before_record_request=before_request,
        before_record_response=before_response,
        decode_compressed_response=True,
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
    )


def assert_scrubbed(cassette: str | Path, secrets: Mapping[str, str]) -> None:
    """Fail if any secret value appears anywhere in the cassette file."""
    text = Path(cassette).read_text(encoding="utf-8")
    leaked = [placeholder for value, placeholder in secrets.items() if value and value in text]
    if leaked:
        raise AssertionError(f"{cassette} still contains secrets: {leaked}")
