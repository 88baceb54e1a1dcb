"""Stock as staff and the order workflow meet it on the running stack: adjustments over HTTP, holds
through the real task functions invoked the way Step Functions invokes them."""

import json
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.aws import client
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import poll

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def _new_sku(http: Http, admin: str) -> tuple[str, str]:
    """A product with one new SKU, as (productId, sku); its stock record arrives through ProductChanged."""
    sku = f"INV-{uuid.uuid4().hex[:10].upper()}"
    body = {
        "name": "Lighthouse Enamel Pin",
        "description": "A small enamel pin.",
        "category": "stationery",
        "price": {"amount": 900, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    created = http("POST", "/products", json=body, token=admin)
    assert created.status_code == 201
    return created.json()["productId"], sku


def test_a_new_sku_gets_stock_and_adjustments_are_ledgered(http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    _, sku = _new_sku(http, admin)
    # Then its stock record appears at zero, flagged low
    stock = poll(lambda: http("GET", f"/inventory/{sku}", token=admin), lambda r: r.status_code == 200)
    assert (stock.json()["available"], stock.json()["lowStock"]) == (0, True)
    # When staff restock with an idempotency key, twice (a retry)
    headers = {"Idempotency-Key": f"restock-{sku}"}
    restock = {"delta": 12, "reason": "restock"}
    first = http("POST", f"/inventory/{sku}/adjustments", json=restock, token=admin, headers=headers)
    again = http("POST", f"/inventory/{sku}/adjustments", json=restock, token=admin, headers=headers)
    assert first.status_code == 201, first.text
    assert again.json()["adjustment"]["adjustmentId"] == first.json()["adjustment"]["adjustmentId"]
    # Then the stock moved once and the ledger has one row
    assert http("GET", f"/inventory/{sku}", token=admin).json()["available"] == 12
    assert len(http("GET", f"/inventory/{sku}/ledger", token=admin).json()["items"]) == 1
    # And removing more than is there is a conflict that changes nothing
    too_many = http("POST", f"/inventory/{sku}/adjustments", json={"delta": -13, "reason": "shrinkage"}, token=admin)
    assert too_many.status_code == 409
    assert http("GET", f"/inventory/{sku}", token=admin).json()["available"] == 12
    # And a customer may not look
    assert http("GET", f"/inventory/{sku}", token=tokens["alice"]).status_code == 403


def test_a_hundred_buyers_for_ten_units(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    # Given a SKU with 10 units
    admin = tokens["admin"]
    product_id, sku = _new_sku(http, admin)
    poll(lambda: http("GET", f"/inventory/{sku}", token=admin), lambda r: r.status_code == 200)
    adjusted = http("POST", f"/inventory/{sku}/adjustments", json={"delta": 10, "reason": "restock"}, token=admin)
    assert adjusted.status_code == 201
    lambdas = client("lambda", stack.state()["awsEndpoint"])

    def reserve(i: int) -> str:
        payload = {"orderId": f"o_{sku}_{i}", "lines": [{"sku": sku, "quantity": 1}]}
        answer = lambdas.invoke(FunctionName="ReserveStockFunction", Payload=json.dumps(payload).encode())
        body: dict[str, Any] = json.loads(answer["Payload"].read())
        return str(body.get("errorType") or body.get("status"))

    # When 100 orders of one unit each are reserved at once, as the workflow's ReserveStock does
    with ThreadPoolExecutor(max_workers=100) as pool:
        outcomes = Counter(pool.map(reserve, range(100)))

    # Then exactly 10 hold stock and 90 are out of stock
    assert outcomes == {"HELD": 10, "OutOfStock": 90}
    stock = http("GET", f"/inventory/{sku}", token=admin).json()
    assert (stock["available"], stock["reserved"], stock["sold"]) == (0, 10, 0)
    # And the public product page says it is sold out
    variant = http("GET", f"/products/{product_id}").json()["variants"][0]
    assert (variant["inStock"], variant["available"]) == (False, 0)


def test_a_hundred_checkouts_for_ten_units(stack: LocalStack, http: Http, tokens: dict[str, str]) -> None:
    """Issue 3's acceptance through the front door: 100 customers' POST /orders at once, 10 units."""
    from concurrent.futures import ThreadPoolExecutor as Pool

    from tests.e2e.shop import place, stock, stocked_sku, wait_status

    admin = tokens["admin"]
    _, sku = stocked_sku(http, admin, 10)
    with Pool(max_workers=25) as pool:
        placed = list(pool.map(lambda i: place(http, tokens["alice" if i % 2 else "bob"], sku, 1), range(100)))
    assert Counter(p.status_code for p in placed) == {202: 100}
    owners = {p.json()["orderId"]: tokens["alice" if i % 2 else "bob"] for i, p in enumerate(placed)}
    finals = Counter(
        wait_status(http, token, order_id, "AWAITING_PAYMENT", "REJECTED", deadline=120)["status"]
        for order_id, token in owners.items()
    )
    assert finals == {"AWAITING_PAYMENT": 10, "REJECTED": 90}
    assert stock(http, admin, sku) == (0, 10, 0)
    # And the checkouts really ran side by side: the API function needed more than one worker
    assert stack.workers()["OrdersApiFunction"] > 1
