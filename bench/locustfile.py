"""Locust's half of the load test (`bench/load.py` starts the stack, then runs this headless): shoppers
whose page views are weighted as a shop's traffic is, each view the API calls the storefront makes for it.

Runs in Locust's own venv (`.tools/locust`: gevent and Locust's pins stay out of the app's), so it imports
nothing of the project; `bench/load.py` hands over the stack's addresses, the catalog and one ID token per
shopper in the JSON file named by `LOAD_CONFIG`.

Per 13 page views (`TASKS`): 5 product pages, 3 catalog pages, 2 searches, 2 carts priced, 1 checkout
paid. A real shop converts 2 to 3 % of visits, about one order per hundred-odd page views; here checkout is
ten times as frequent, so that a 60 s run pays dozens of orders and their p95 means something, while
browsing still makes most of the requests. Each request is named after its route's template
(`GET /products/{id}`), so Locust groups them; the polls of an order are one name, and the two waits of
a checkout are timed as steps of their own (`CHECKOUT` rows). A checkout polls as the storefront does
(every 1 s, then 1.5 s), so those steps are known to a poll's interval only; `bench/checkout.py` times
them to 10 ms.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from locust import between, events  # type: ignore[import-not-found]
from locust.contrib.fasthttp import FastHttpUser  # type: ignore[import-not-found]

CONFIG: dict[str, Any] = json.loads(open(os.environ["LOAD_CONFIG"], encoding="utf-8").read())  # noqa: SIM115
"""`apiUrl`, `stripeUrl`, `stripeKey`, `productIds`, `skus`, `categories`, `searches`, `tokens`; optional
`thinkSeconds` ([least, most] between two views of a shopper; tests make it short)."""
THINK_SECONDS = (0.5, 2.0)
"""A shopper reads a page for a second or so before the next (a person reads longer; then 20 shoppers
would be a few requests a second, too few to load the stack)."""

PREPARE_POLL_SECONDS = 1.0
"""How often a checkout asks for its order until it can be paid: as the storefront does (`checkout.tsx`)."""
PAID_POLL_SECONDS = 1.5
"""How often the order's page asks after the payment: as the storefront does (`order.tsx`)."""
ORDER_DEADLINE = 60.0
ADDRESS = {
    "name": "Load Shopper",
    "line1": "1 Harbour Street",
    "city": "Hamburg",
    "postalCode": "20457",
    "country": "DE",
}


class CheckoutFailed(Exception):
    """A checkout that did not end `PAID`: reported as a failure of the step it stopped in."""


def catalog_page(user: Any) -> None:
    """The shop's front or a category: the categories menu and the first page of products."""
    user.client.get("/categories", params={"limit": 100}, name="/categories")
    if random.random() < 0.5:
        user.client.get("/products", params={"limit": 24}, name="/products")
    else:
        category = random.choice(CONFIG["categories"])
        user.client.get("/products", params={"limit": 24, "category": category}, name="/products?category=")


def search(user: Any) -> None:
    user.client.get("/products", params={"limit": 24, "q": random.choice(CONFIG["searches"])}, name="/products?q=")


def product_page(user: Any) -> None:
    """A product and its "bought together" suggestions, as the storefront's product page loads them."""
    product_id = random.choice(CONFIG["productIds"])
    user.client.get(f"/products/{product_id}", name="/products/{id}")
    user.client.get(
        f"/products/{product_id}/recommendations", params={"limit": 4}, name="/products/{id}/recommendations"
    )


def cart(user: Any) -> None:
    """The cart priced for a country (anonymous: the storefront quotes before sign-in)."""
    user.client.post("/quotes", json={"items": basket(), "country": "DE"}, name="/quotes")


def checkout(user: Any) -> None:
    """Quote, place the order, wait for its PaymentIntent, pay at the local Stripe as Stripe.js would, wait
    for `PAID`. A failure anywhere counts once, as the failure of the step it stopped in."""
    auth = {"Authorization": f"Bearer {user.token}"}
    items = basket()
    quoted = user.client.post(
        "/quotes", json={"items": items, "shippingAddress": ADDRESS}, headers=auth, name="/quotes"
    )
    if not quoted.ok:
        return
    methods = quoted.json()["shippingMethods"]
    body: dict[str, Any] = {"items": items, "shippingAddress": ADDRESS}
    if methods:
        body["shippingMethodId"] = methods[0]["shippingMethodId"]
    started = time.perf_counter()
    placed = user.client.post(
        "/orders", json=body, headers={**auth, "Idempotency-Key": f"load-{uuid.uuid4().hex}"}, name="/orders"
    )
    if not placed.ok:
        return
    order_id = placed.json()["orderId"]
    order = step(
        "POST /orders → AWAITING_PAYMENT",
        started,
        lambda: wait_for(user, order_id, "AWAITING_PAYMENT", PREPARE_POLL_SECONDS),
    )
    if order is None:
        return
    paying = time.perf_counter()
    if pay(user, order["payment"]["paymentIntentId"]):
        step("payment confirmed → PAID", paying, lambda: wait_for(user, order_id, "PAID", PAID_POLL_SECONDS))


def step(name: str, started: float, wait: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """Time one wait of a checkout as a row of its own (type `CHECKOUT`), a failure if it ends elsewhere."""
    error: Exception | None = None
    order: dict[str, Any] | None = None
    try:
        order = wait()
    except CheckoutFailed as failed:
        error = failed
    elapsed_ms = (time.perf_counter() - started) * 1000
    events.request.fire(
        request_type="CHECKOUT", name=name, response_time=elapsed_ms, response_length=0, exception=error, context={}
    )
    return order


def wait_for(user: Any, order_id: str, status: str, every: float) -> dict[str, Any]:
    """Poll the order until `status`, or fail: on another final status, or at the deadline."""
    deadline = time.monotonic() + ORDER_DEADLINE
    auth = {"Authorization": f"Bearer {user.token}"}
    while True:
        answer = user.client.get(f"/orders/{order_id}", headers=auth, name="/orders/{id} (poll)")
        order: dict[str, Any] = answer.json() if answer.ok else {}
        if order.get("status") == status:
            return order
        if order.get("status") in {"REJECTED", "CANCELLED"}:
            raise CheckoutFailed(f"order {order_id} ended {order['status']}: {order.get('reason')}")
        if time.monotonic() > deadline:
            raise CheckoutFailed(f"order {order_id} not {status} within {ORDER_DEADLINE:.0f} s")
        time.sleep(every)  # Locust's gevent makes this yield to the other shoppers


def pay(user: Any, intent_id: str) -> bool:
    """Attach a card, then confirm, as `python -m local pay` does (localstripe takes no card at confirm)."""
    url = f"{CONFIG['stripeUrl']}/v1/payment_intents/{intent_id}"
    auth = (CONFIG["stripeKey"], "")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    card = user.client.post(
        url, data="payment_method=pm_card_visa", headers=form, auth=auth, name="stripe /v1/payment_intents/{id}"
    )
    if not card.ok:
        return False
    return bool(user.client.post(f"{url}/confirm", auth=auth, name="stripe /v1/payment_intents/{id}/confirm").ok)


def basket() -> list[dict[str, Any]]:
    """One or two SKUs, one unit each: most carts hold few lines."""
    return [{"sku": sku, "quantity": 1} for sku in random.sample(CONFIG["skus"], k=random.choice((1, 1, 2)))]


TASKS: dict[Callable[[Any], None], int] = {product_page: 5, catalog_page: 3, search: 2, cart: 2, checkout: 1}
"""The mix, per 13 page views (the module docstring says why)."""

_tokens = iter(CONFIG["tokens"])


class Shopper(FastHttpUser):  # type: ignore[misc]
    """A visitor who browses, prices carts and now and then checks out, a second or two between views."""

    host = CONFIG["apiUrl"]
    wait_time = between(*CONFIG.get("thinkSeconds", THINK_SECONDS))
    network_timeout = 30.0
    connection_timeout = 10.0
    tasks = TASKS

    def on_start(self) -> None:
        """Each shopper is a customer of their own (their own orders, limits and history)."""
        self.token = next(_tokens, None) or random.choice(CONFIG["tokens"])
