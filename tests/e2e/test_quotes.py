"""Issue 13's acceptance on a stack of its own, configured as the demo shop is (its tax rates and shipping
methods, and the 11.90 € sketchbook): a public quote for two sketchbooks to DE with Standard shipping is
28.70 € with 4.58 € tax, and the order placed with the same body costs — and is paid — exactly that."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from local.demo_data import DEMO_SHIPPING_METHODS, DEMO_TAX_RATES, PRODUCTS
from local.seed import seed_pricing, seed_products
from local.stripe import find_payment_intent
from tests.e2e.localstack import LocalStack, start, stop, wait_ready
from tests.e2e.shop import ADDRESS, pay, poll, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
SKETCHBOOK = next(p for p in PRODUCTS if p["name"] == "Pocket Sketchbook")
SKU = SKETCHBOOK["variants"][0]["sku"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir: Path = tmp_path_factory.mktemp("pricing-stack")
    process, log = start(state_dir, "--no-seed")
    try:
        stack = LocalStack(wait_ready(process, log), state_dir, process, log)
        admin = stack.token("admin@example.com", "admin")
        seed_products(stack.api, f"Bearer {admin}", [SKETCHBOOK])
        seed_pricing(stack.api, f"Bearer {admin}", DEMO_TAX_RATES, DEMO_SHIPPING_METHODS)
        yield stack
    finally:
        stop(process)


@pytest.fixture(scope="module")
def people(shop: LocalStack) -> dict[str, str]:
    return {"admin": shop.token("admin@example.com", "admin"), "alice": shop.token("alice@example.com")}


@pytest.fixture
def call(shop: LocalStack) -> Http:
    session = requests.Session()

    def request(method: str, path: str, *, token: str | None = None, **kwargs: object) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, shop.api + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    return request


def test_a_quote_and_the_order_placed_from_it_agree(shop: LocalStack, call: Http, people: dict[str, str]) -> None:
    # Given the sketchbook on the shelf and the demo shop's methods for DE
    admin, alice = people["admin"], people["alice"]
    poll(lambda: call("GET", f"/inventory/{SKU}", token=admin).status_code, lambda status: status == 200)
    stocked = call("POST", f"/inventory/{SKU}/adjustments", json={"delta": 5, "reason": "restock"}, token=admin)
    assert stocked.status_code == 201, stocked.text
    methods = call("GET", "/shipping-methods", params={"country": "DE"})
    assert methods.status_code == 200, methods.text
    by_name = {m["name"]: m["shippingMethodId"] for m in methods.json()["items"]}
    assert set(by_name) == {"Standard", "Express"}

    # When an anonymous storefront quotes two to DE with Standard
    body = {"items": [{"sku": SKU, "quantity": 2}], "shippingMethodId": by_name["Standard"]}
    quote = call("POST", "/quotes", json=body | {"country": "DE"})

    # Then it is the worked example: 28.70 €, of which 4.58 € tax, nothing in the way
    assert quote.status_code == 200, quote.text
    quoted = quote.json()
    assert (quoted["subtotal"]["amount"], quoted["shipping"]["amount"]) == (2380, 490)
    assert (quoted["tax"]["amount"], quoted["total"]["amount"]) == (458, 2870)
    assert quoted["problems"] == [] and quoted["lines"][0]["available"] is True

    # When Alice places the order with the same body
    placed = call(
        "POST",
        "/orders",
        json=body | {"shippingAddress": ADDRESS},
        token=alice,
        headers={"Idempotency-Key": "e2e-quote-agrees-1"},
    )
    assert placed.status_code == 202, placed.text

    # Then the order costs what the quote said, and that is what is paid
    order = placed.json()
    assert (order["total"]["amount"], order["tax"]["amount"], order["shipping"]["amount"]) == (2870, 458, 490)
    wait_status(call, alice, order["orderId"], "AWAITING_PAYMENT")
    pay(shop, order["orderId"])
    paid = wait_status(call, alice, order["orderId"], "PAID", deadline=15)
    assert paid["total"]["amount"] == 2870
    intent = find_payment_intent(shop.state()["stripeUrl"], order["orderId"])
    assert (intent["amount"], intent["status"]) == (2870, "succeeded")

    # When staff refund the order's one line (two sketchbooks) by line
    refunded = call(
        "POST",
        f"/orders/{order['orderId']}/refunds",
        json={"lines": [{"sku": SKU, "quantity": 2}], "reason": "returned"},
        token=admin,
        headers={"Idempotency-Key": "e2e-quote-agrees-refund"},
    )

    # Then it gives back that line's gross and tax — not the shipping — and the history says what came back
    assert refunded.status_code == 200, refunded.text
    refund = refunded.json()["refunds"][-1]
    assert (refund["amount"]["amount"], refund["tax"]["amount"]) == (2380, 380)
    assert refund["lines"] == [
        {"sku": SKU, "quantity": 2, "amount": refund["amount"], "tax": refund["tax"], "net": refund["lines"][0]["net"]}
    ]
    assert refund["lines"][0]["net"]["amount"] == 2000
    assert refunded.json()["refundedTotal"]["amount"] == 2380
    assert refunded.json()["history"][-1]["lines"] == [{"sku": SKU, "quantity": 2}]

    # And checkout without a method, where DE has two, is refused as the quote warned
    unnamed = call(
        "POST",
        "/orders",
        json={"items": body["items"], "shippingAddress": ADDRESS},
        token=alice,
        headers={"Idempotency-Key": "e2e-quote-agrees-2"},
    )
    assert unnamed.status_code == 422, unnamed.text
    assert unnamed.json()["error"]["code"] == "shipping_method_required"
    warned = call("POST", "/quotes", json={"items": body["items"], "country": "DE"}).json()
    assert [p["code"] for p in warned["problems"]] == ["shipping_method_required"]
