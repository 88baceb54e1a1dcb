"""What e2e tests do again and again on the running stack: stock a new product, order it, wait for an
order's status (polling with a deadline), and read stock."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.localstack import LocalStack

Http = Callable[..., requests.Response]
DEADLINE = 15.0
ADDRESS = {
    "name": "Alice Example",
    "line1": "1 Harbour Street",
    "city": "Hamburg",
    "postalCode": "20457",
    "country": "DE",
}


def poll(call: Callable[[], Any], until: Callable[[Any], bool], deadline: float = DEADLINE) -> Any:
    """Call until `until` holds; fail with the last answer when the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        value = call()
        if until(value):
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not reached within {deadline:.0f} s; last: {value!r}")
        time.sleep(0.1)


def stocked_sku(http: Http, admin: str, units: int, price: int = 1500) -> tuple[str, str]:
    """A new product with one SKU and `units` on the shelf: (productId, sku)."""
    sku = f"E2E-{uuid.uuid4().hex[:10].upper()}"
    body = {
        "name": f"Test Lantern {sku[-4:]}",
        "description": "A lantern for tests.",
        "category": "outdoor",
        "price": {"amount": price, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    created = http("POST", "/products", json=body, token=admin)
    assert created.status_code == 201, created.text
    poll(lambda: http("GET", f"/inventory/{sku}", token=admin).status_code, lambda s: s == 200)
    if units:
        adjusted = http(
            "POST", f"/inventory/{sku}/adjustments", json={"delta": units, "reason": "restock"}, token=admin
        )
        assert adjusted.status_code == 201, adjusted.text
    return created.json()["productId"], sku


def place(http: Http, token: str, sku: str, quantity: int = 1, key: str | None = None) -> requests.Response:
    body = {"items": [{"sku": sku, "quantity": quantity}], "shippingAddress": ADDRESS}
    headers = {"Idempotency-Key": key or f"e2e-{uuid.uuid4().hex}"}
    return http("POST", "/orders", json=body, token=token, headers=headers)


def wait_status(http: Http, token: str, order_id: str, *statuses: str, deadline: float = DEADLINE) -> dict[str, Any]:
    order: dict[str, Any] = poll(
        lambda: http("GET", f"/orders/{order_id}", token=token).json(),
        lambda o: o.get("status") in statuses,
        deadline,
    )
    return order


def stock(http: Http, admin: str, sku: str) -> tuple[int, int, int]:
    s = http("GET", f"/inventory/{sku}", token=admin).json()
    return s["available"], s["reserved"], s["sold"]


def pay(stack: LocalStack, order_id: str, *, decline: bool = False) -> None:
    stack.cli("pay", order_id, *(["--decline"] if decline else []))
