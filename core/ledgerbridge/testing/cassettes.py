"""vcrpy cassettes with secrets scrubbed before anything is written.

Every value listed in ``secrets`` (tokens, keys, client secrets, organisation
ids) is replaced by its placeholder wherever it appears -- URL, headers, body
of requests and responses -- and the usual credential headers are dropped.
``assert_scrubbed`` proves that no listed secret survives in a cassette file.
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
            request.headers[name] = _replace_all(str(request.headers[name]), secrets)
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
        filter_headers=[*CREDENTIAL_HEADERS, *extra_headers],
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
