"""The kit's GraphQL document and answer helpers (``ledgerbridge.http.graphql``)."""

from __future__ import annotations

from ledgerbridge.http.graphql import (
    Fragments,
    connection,
    error_code,
    error_text,
    listed,
    string_literal,
)

FRAGMENTS = Fragments(
    """
fragment Money on MoneyV2 { amount currencyCode }
fragment Line on LineItem { id price { ...Money } }
fragment Unused on Shop { name }
"""
)


def test_a_document_carries_exactly_the_fragments_it_spreads_transitively() -> None:
    doc = FRAGMENTS.document("query Q { order { ...Line ... on Order { id } } }")
    assert "fragment Line on LineItem" in doc and "fragment Money on MoneyV2" in doc
    assert "Unused" not in doc  # a server rejects a document with an unused fragment
    assert doc.index("fragment Line") < doc.index("fragment Money")  # sorted by name


def test_connections_paged_and_bulk() -> None:
    assert connection("lines", "Line", 5, "reverse: true") == (
        "lines(first: 5, reverse: true) { pageInfo { hasNextPage endCursor } nodes { ...Line } }"
    )
    assert connection("lines", "Line", None) == "lines { edges { node { ...Line } } }"
    assert listed("refunds", "id", 3) == "refunds(first: 3) { id }"
    assert listed("refunds", "id", None) == "refunds { id }"


def test_string_literal_escapes_quotes_and_backslashes() -> None:
    assert string_literal('a "b" \\c') == '"a \\"b\\" \\\\c"'


def test_error_text_reads_a_graphql_list_or_a_plain_string() -> None:
    body = {
        "errors": [
            {"message": "Throttled", "extensions": {"code": "THROTTLED"}},
            {"message": "second"},
            "bare",
        ]
    }
    assert error_text(body) == ("THROTTLED", "Throttled; second; bare")
    assert error_text({"errors": "Not Found"}) == (None, "Not Found")
    assert error_text([1, 2]) == (None, None)
    assert error_code({"extensions": "odd"}) is None
