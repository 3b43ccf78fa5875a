"""The contract checker itself, API2Cart's captured examples, and the emulator's answers.

(Every request the connector sends in this suite is also checked: the ``harness``
fixture fails a test whose traffic breaks the spec.)
"""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import httpx
import pytest

from tests.conftest import refdata

from . import contract as contract_module
from .conftest import API_KEY, GENERIC, Harness, load_contract
from .contract import ALLOWED_DEFECTS, ContractTransport, OpenApiContract


@pytest.fixture(scope="module")
def contract() -> OpenApiContract:
    return OpenApiContract.load(refdata("api2cart-openapi", "openapi.json"))


HEADERS = {"x-api-key": "k", "x-store-key": "s"}


def test_the_checker_catches_bad_requests(contract: OpenApiContract):
    bad = httpx.Request(
        "GET",
        "http://x/v1.1/order.list.json?modified_since=2024&count=ten&is_deleted=yes",
        headers={"x-api-key": "k"},
    )
    problems = contract.check_request(bad)
    assert any("modified_since" in p for p in problems)
    assert any("count='ten'" in p for p in problems)
    assert any("is_deleted='yes'" in p for p in problems)
    assert any("x-store-key" in p for p in problems)
    wrong_body = httpx.Request(
        "POST", "http://x/v1.1/webhook.create.json", headers=HEADERS, json={"active": "yes"}
    )
    assert any("active" in p for p in contract.check_request(wrong_body))
    nowhere = httpx.Request("GET", "http://x/v1.1/order.explode.json", headers=HEADERS)
    assert contract.check_request(nowhere)


def test_the_checker_catches_bad_responses(contract: OpenApiContract):
    request = httpx.Request("GET", "http://x/v1.1/order.list.json", headers=HEADERS)
    payload = {"return_code": 0, "return_message": "", "result": {"order": [{"order_id": 7}]}}
    assert any("order_id" in p for p in contract.check_response(request, payload))
    error = {"return_code": 7, "result": None}
    assert any("return_message" in p for p in contract.check_response(request, error))


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("amazonsp__order.info__order-id-111-2392565-0194613.response.json", "order.info"),
        ("amazonsp__order.list__count-2__page1.response.json", "order.list"),
        ("etsyapiv3__order.info__order-id-4130825825.response.json", "order.info"),
        ("amazonsp__category.find__error-no-find-value.response.json", "category.find"),
        (
            "etsyapiv3__order.shipment.list__error-invalid-param.response.json",
            "order.shipment.list",
        ),
    ],
)
def test_captured_examples_validate_with_the_allow_list(contract, name, method):
    payload = json.loads(refdata("api2cart-examples", name).read_text(), parse_float=Decimal)
    assert contract.validate_payload(method, payload) == []


def test_each_allow_list_entry_is_needed(contract: OpenApiContract, monkeypatch):
    """Without the allow-list, the captured examples break the spec exactly where noted."""
    monkeypatch.setattr(contract_module, "ALLOWED_DEFECTS", [])
    seen = set()
    for name, method in [
        ("amazonsp__order.info__order-id-111-2392565-0194613.response.json", "order.info"),
        ("etsyapiv3__order.info__order-id-4130825825.response.json", "order.info"),
    ]:
        payload = json.loads(refdata("api2cart-examples", name).read_text())
        seen.update(contract.validate_payload(method, payload))
    assert any("result.shipping_address" in p for p in seen)  # its id, inside anyOf
    assert any("result.store_id" in p for p in seen)
    assert len(ALLOWED_DEFECTS) == 2


def test_every_emulated_method_answers_within_the_spec(harness: Harness):
    """Direct calls to every method the emulator serves, checked by the contract transport."""
    transport = ContractTransport(httpx.ASGITransport(harness.app), load_contract())
    if transport.contract is None:
        pytest.skip("the API2Cart OpenAPI document is not present")
    harness.transports.append(transport)
    calls = [
        ("GET", "order.status.list", {"allow_user_defined_order_statuses": "true"}),
        ("GET", "order.list", {"count": "3", "params": "force_all"}),
        ("GET", "order.list", {"count": "3"}),  # default params
        ("GET", "order.info", {"order_id": "1001", "params": "force_all"}),
        ("GET", "order.info", {"order_id": "nope"}),
        ("GET", "customer.list", {"include_guests": "true", "params": "force_all"}),
        ("GET", "product.list", {"params": "force_all"}),
        ("GET", "product.child_item.list", {"product_ids": "7002"}),
        ("GET", "cart.info", {}),
        ("GET", "webhook.list", {}),
    ]

    async def run():
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://api2cart.test/v1.1/",
            headers={"x-api-key": API_KEY, "x-store-key": GENERIC},
        ) as client:
            answers = [
                (await client.request(verb, f"{name}.json", params=params)).json()
                for verb, name, params in calls
            ]
            created = await client.post(
                "webhook.create.json",
                json={"entity": "order", "action": "add", "callback": "https://h/x"},
            )
            return [*answers, created.json()]

    answers = anyio.run(run)
    codes = [a["return_code"] for a in answers]
    assert codes == [0, 0, 0, 0, 112, 0, 0, 0, 0, 0, 0]
    default_view = answers[2]["result"]["order"][0]
    assert "currency" not in default_view and "create_at" not in default_view  # the trap
    assert "currency" in answers[1]["result"]["order"][0]
    assert transport.violations == []


def test_the_emulator_rounds_to_the_requested_precision(harness: Harness):
    order = next(iter(harness.state.stores[GENERIC].orders.values()))
    order["order_products"][0]["tax_value"] = Decimal("3.09495")

    async def read(precision):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(harness.app),
            base_url="http://api2cart.test/v1.1/",
            headers={"x-api-key": API_KEY, "x-store-key": GENERIC},
        ) as client:
            params = {"order_id": order["order_id"], "params": "force_all"}
            if precision:
                params["rounding_precision"] = precision
            answer = await client.get("order.info.json", params=params)
            return json.loads(answer.content, parse_float=Decimal)["result"]

    def tax(precision):
        return anyio.run(read, precision)["order_products"][0]["tax_value"]

    assert tax(None) == Decimal("3.09")  # the store's default (2), half-up
    assert tax(4) == Decimal("3.0950") and tax(6) == Decimal("3.09495")
