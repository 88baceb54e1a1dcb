"""Seed the demo catalog, its stock and a purchase history through the real API over HTTP, so seeding
exercises the path a client takes (authorizer, validation, handler, table, workflow, Stripe). Requests
run in parallel to keep a start quick; moto state is fresh on every start, so there is nothing to clean
up first."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

log = logging.getLogger("local.seed")


class SeedFailed(Exception):
    pass


def seed_products(api_url: str, admin_token: str, products: Iterable[dict[str, Any]], workers: int = 4) -> int:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
    headers = {"Authorization": admin_token, "Content-Type": "application/json"}

    def create(product: dict[str, Any]) -> None:
        # Retried on a 5xx or a timeout, as a client would: the same body again is answered with the
        # product the first attempt created (a busy laptop can make moto slower than any timeout).
        for attempt in range(3):
            try:
                response = session.post(f"{api_url}/products", json=product, headers=headers, timeout=60)
            except requests.RequestException:
                if attempt == 2:
                    raise
                continue
            if response.status_code == 201:
                return
            if response.status_code < 500 or attempt == 2:
                raise SeedFailed(f"POST /products {product['name']!r} -> {response.status_code}: {response.text[:500]}")

    items = list(products)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(create, items))
    return len(items)


def seed_pricing(
    api_url: str,
    admin_token: str,
    tax_rates: dict[str, dict[str, Any]],
    shipping_methods: Iterable[dict[str, Any]],
) -> int:
    """Set the demo shop's tax rates and create its shipping methods, as an admin would. Run after the
    demo history: those orders were placed before the shop charged shipping. Returns the methods made."""
    session = requests.Session()
    headers = {"Authorization": admin_token, "Content-Type": "application/json"}
    for country, rates in tax_rates.items():
        answer = session.put(f"{api_url}/tax-rates/{country}", json=rates, headers=headers, timeout=30)
        if answer.status_code != 200:
            raise SeedFailed(f"PUT /tax-rates/{country} -> {answer.status_code}: {answer.text[:300]}")
    made = 0
    for method in shipping_methods:
        answer = session.post(f"{api_url}/shipping-methods", json=method, headers=headers, timeout=30)
        if answer.status_code != 201:
            raise SeedFailed(f"POST /shipping-methods {method['name']!r} -> {answer.status_code}: {answer.text[:300]}")
        made += 1
    return made


def seed_profiles(api_url: str, tokens: dict[str, str], profiles: dict[str, dict[str, Any]]) -> int:
    """Save the demo customers' profiles (`PUT /me`) as they would, which also makes them findable by
    support (`GET /admin/customers?q=ali`). Returns the number saved."""
    saved = 0
    with requests.Session() as session:
        for email, profile in profiles.items():
            token = tokens.get(email)
            if token is None:
                continue
            answer = session.put(f"{api_url}/me", json=profile, headers={"Authorization": token}, timeout=30)
            if answer.status_code != 200:
                raise SeedFailed(f"PUT /me of {email} -> {answer.status_code}: {answer.text[:300]}")
            saved += 1
    return saved


def seed_history(
    api_url: str,
    admin_token: str,
    tokens: dict[str, str],
    stripe_url: str | None,
    products: Iterable[dict[str, Any]],
    orders: Iterable[tuple[str, list[tuple[str, int]]]],
    *,
    units: int,
    address: dict[str, str],
    workers: int = 8,
    deadline: float = 60.0,
) -> int:
    """Put `units` of every demo SKU on the shelf, then place and pay the demo orders as their customers
    would (POST /orders, then localstripe's confirm), all in parallel. It does not wait for the orders
    to be paid: the workflow finishes them in the background within a few seconds of the start.
    Returns the number of orders paid."""
    from local.stripe import pay

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
    end = time.monotonic() + deadline

    def call(method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": token, **kwargs.pop("headers", {})}
        return session.request(method, f"{api_url}{path}", headers=headers, timeout=30, **kwargs)

    def until(what: str, check: Callable[[], bool]) -> None:
        while not check():
            if time.monotonic() > end:
                raise SeedFailed(f"seeding: {what} not reached within {deadline:.0f} s")
            time.sleep(0.05)

    def stock(sku: str) -> None:
        until(f"stock record of {sku}", lambda: call("GET", f"/inventory/{sku}", admin_token).status_code == 200)
        body = {"delta": units, "reason": "restock", "note": "demo stock"}
        answer = call(
            "POST", f"/inventory/{sku}/adjustments", admin_token, json=body, headers={"Idempotency-Key": f"demo-{sku}"}
        )
        if answer.status_code != 201:
            raise SeedFailed(f"stocking {sku} -> {answer.status_code}: {answer.text[:300]}")

    def order(numbered: tuple[int, tuple[str, list[tuple[str, int]]]]) -> None:
        number, (email, items) = numbered
        token = tokens[email]
        body = {"items": [{"sku": s, "quantity": q} for s, q in items], "shippingAddress": address}
        placed = call("POST", "/orders", token, json=body, headers={"Idempotency-Key": f"demo-order-{number:04d}"})
        if placed.status_code != 202:
            raise SeedFailed(f"demo order {number} -> {placed.status_code}: {placed.text[:300]}")
        order_id = placed.json()["orderId"]
        status = {"value": ""}

        def awaiting() -> bool:
            status["value"] = call("GET", f"/orders/{order_id}", token).json().get("status", "")
            return status["value"] != "PENDING"

        until(f"payment step of demo order {number}", awaiting)
        if status["value"] != "AWAITING_PAYMENT":
            raise SeedFailed(f"demo order {number} is {status['value']}, not awaiting payment")
        assert stripe_url is not None
        pay(stripe_url, order_id)

    skus = [variant["sku"] for product in products for variant in product["variants"]]
    wanted = [item for item in orders if item[0] in tokens]
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(stock, skus))
            if stripe_url is None:
                return 0
            list(pool.map(order, enumerate(wanted)))
    except (SeedFailed, requests.RequestException) as error:
        # The demo history is a nicety: a stack without it still serves (and says why).
        log.warning("DEMO PURCHASE HISTORY NOT SEEDED: %s", error)
        return 0
    return len(wanted)
