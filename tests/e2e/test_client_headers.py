"""The headers a generated client relies on, on the running stack: `ETag` with `If-None-Match` (304) and
`If-Match` (412) on the catalog; a `Location` on every 201 and 202 that answers 200 on `GET`; and
`Idempotent-Replayed: true` on a replay of every route that takes an `Idempotency-Key`.

The routes come from `docs/openapi.json`: each one answering 201/202, or declaring `Idempotency-Key`,
needs a recipe below (what the call needs and who makes it), so a new such route fails here until
someone shows that its `Location` can be followed and its replays are marked."""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, place, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
Route = tuple[str, str]
ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
KEY_HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _routes(where: Callable[[dict[str, Any]], bool]) -> list[Route]:
    return sorted(
        (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method, op in item.items() if where(op)
    )


def _answers_created(op: dict[str, Any]) -> bool:
    return bool({"201", "202"} & set(op.get("responses", {})))


def _takes_key(op: dict[str, Any]) -> bool:
    return any(p["in"] == "header" and p["name"].lower() == KEY_HEADER.lower() for p in op.get("parameters", []))


CREATED = _routes(_answers_created)
KEYED = _routes(_takes_key)


@dataclass
class Call:
    """One request of a route, ready to send (again, for a replay) with the headers a test adds."""

    token: str | None
    method: str
    path: str
    body: Any = None

    def send(self, http: Http, headers: dict[str, str]) -> requests.Response:
        kwargs: dict[str, Any] = {"headers": headers} | ({"json": self.body} if self.body is not None else {})
        return http(self.method, self.path, token=self.token, **kwargs)


@dataclass
class World:
    stack: LocalStack
    http: Http
    tokens: dict[str, str]

    @property
    def admin(self) -> str:
        return self.tokens["admin"]

    def product(self) -> dict[str, Any]:
        sku = f"HDR-{uuid.uuid4().hex[:10].upper()}"
        return {
            "name": f"Header Lamp {sku[-4:]}",
            "description": "A lamp for the header tests.",
            "category": "outdoor",
            "price": {"amount": 1100, "currency": "EUR"},
            "variants": [{"sku": sku}],
        }

    def order(self, *, paid: bool = False) -> str:
        """A fresh order of alice's, awaiting payment (or paid)."""
        _, sku = stocked_sku(self.http, self.admin, 5)
        order_id = str(place(self.http, self.tokens["alice"], sku).json()["orderId"])
        wait_status(self.http, self.tokens["alice"], order_id, "AWAITING_PAYMENT")
        if paid:
            pay(self.stack, order_id)
            wait_status(self.http, self.tokens["alice"], order_id, "PAID")
        return order_id


def _checkout(w: World) -> Call:
    _, sku = stocked_sku(w.http, w.admin, 5)
    return Call(
        w.tokens["alice"], "POST", "/orders", {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS}
    )


def _adjustment(w: World) -> Call:
    _, sku = stocked_sku(w.http, w.admin, 0)
    return Call(w.admin, "POST", f"/inventory/{sku}/adjustments", {"delta": 2, "reason": "restock"})


def _note(w: World) -> Call:
    customer_id = w.http("GET", "/me", token=w.tokens["alice"]).json()["customerId"]
    return Call(w.tokens["support"], "POST", f"/admin/customers/{customer_id}/notes", {"text": "header test"})


def _application(w: World) -> Call:
    applicant = w.stack.token(f"hdr-{uuid.uuid4().hex[:8]}@example.com")
    body = {"name": "Header Blog", "website": "https://header.example.com", "payoutEmail": "pay@example.com"}
    return Call(applicant, "POST", "/affiliates", body)


def _payout(w: World) -> Call:
    application = _application(w)
    affiliate_id = application.send(w.http, {}).json()["affiliateId"]
    return Call(w.admin, "POST", f"/affiliates/{affiliate_id}/payouts")


RECIPES: dict[Route, Callable[[World], Call]] = {
    ("POST", "/orders"): _checkout,
    ("POST", "/orders/{orderId}/cancel"): lambda w: Call(w.tokens["alice"], "POST", f"/orders/{w.order()}/cancel"),
    ("POST", "/orders/{orderId}/shipments"): lambda w: Call(
        w.admin, "POST", f"/orders/{w.order(paid=True)}/shipments", {"carrier": "DHL", "trackingNumber": "HDR1"}
    ),
    ("POST", "/orders/{orderId}/refunds"): lambda w: Call(
        w.admin,
        "POST",
        f"/orders/{w.order(paid=True)}/refunds",
        {"amount": {"amount": 100, "currency": "EUR"}, "reason": "x"},
    ),
    ("POST", "/products"): lambda w: Call(w.admin, "POST", "/products", w.product()),
    ("POST", "/inventory/{sku}/adjustments"): _adjustment,
    ("POST", "/coupons"): lambda w: Call(
        w.admin, "POST", "/coupons", {"code": f"HDR{uuid.uuid4().hex[:8].upper()}", "type": "percent", "value": 10}
    ),
    ("POST", "/me/addresses"): lambda w: Call(w.tokens["bob"], "POST", "/me/addresses", ADDRESS),
    ("POST", "/admin/customers/{customerId}/notes"): _note,
    ("POST", "/affiliates"): _application,
    ("POST", "/affiliates/{affiliateId}/payouts"): _payout,
    ("POST", "/reports/runs"): lambda w: Call(w.admin, "POST", "/reports/runs", {"kind": "daily-report"}),
    # A country no other e2e test ships to; the world fixture archives it again (any active method
    # makes the countries it does not serve unservable for the shared stack's later checkouts).
    ("POST", "/shipping-methods"): lambda w: Call(
        w.admin,
        "POST",
        "/shipping-methods",
        {"name": "Header Post", "countries": ["IS"], "price": {"amount": 990, "currency": "EUR"}},
    ),
}
NOT_CALLED: dict[Route, str] = {
    ("POST", "/admin/orders/{orderId}/redrive"): "only a flagged order is re-driven, which takes Stripe faults for "
    "hours of retries (tests/e2e/test_fault_matrix.py); its document must still declare Location",
}


@pytest.fixture
def world(stack: LocalStack, http: Http, tokens: dict[str, str]) -> Iterator[World]:
    yield World(stack, http, tokens)
    # The shared stack ships without shipping methods: archive any a recipe made.
    for method in http("GET", "/shipping-methods").json()["items"]:
        archived = http("DELETE", f"/shipping-methods/{method['shippingMethodId']}", token=tokens["admin"])
        assert archived.status_code == 204, archived.text


def test_every_created_or_keyed_route_has_a_recipe() -> None:
    # Given the routes the document says answer 201/202 or take an Idempotency-Key
    # Then each has a recipe here (or a reason it is not called), and each declares the header as spelled
    missing = sorted(set(CREATED + KEYED) - set(RECIPES) - set(NOT_CALLED))
    assert not missing, f"routes without a recipe: {missing}"
    misspelled = [
        (method, path, p["name"])
        for method, path in KEYED
        for p in DOCUMENT["paths"][path][method.lower()]["parameters"]
        if p["name"].lower() == KEY_HEADER.lower() and p["name"] != KEY_HEADER
    ]
    assert not misspelled, f"declare the header as {KEY_HEADER!r}: {misspelled}"


@pytest.mark.parametrize("route", CREATED, ids=" ".join)
def test_every_location_of_a_201_or_202_answers_200(route: Route, world: World) -> None:
    method, path = route
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    created = next(code for code in ("201", "202") if code in responses)
    # Given the document declares Location on the route's 201/202
    assert "Location" in responses[created].get("headers", {}), f"{method} {path} {created} declares no Location"
    if route in NOT_CALLED:
        return
    # When the route is called
    call = RECIPES[route](world)
    answer = call.send(world.http, {KEY_HEADER: f"hdr-{uuid.uuid4().hex}"})
    # Then it answers 201/202 with a Location that the same caller can GET
    assert answer.status_code == int(created), answer.text
    location = answer.headers.get("Location")
    assert location, f"{method} {path} answered {answer.status_code} without Location"
    followed = world.http("GET", location, token=call.token, allow_redirects=False)
    assert followed.status_code == 200, f"GET {location} (from {method} {path}): {followed.status_code} {followed.text}"


@pytest.mark.parametrize("route", KEYED, ids=" ".join)
def test_a_replay_carries_idempotent_replayed(route: Route, world: World) -> None:
    # Given a call of a route that takes an Idempotency-Key
    call = RECIPES[route](world)
    key = f"hdr-replay-{uuid.uuid4().hex}"
    # When it is sent twice with the same key
    first = call.send(world.http, {KEY_HEADER: key})
    again = call.send(world.http, {KEY_HEADER: key})
    # Then the first is the original and the second its replay, marked so
    assert first.status_code < 300, first.text
    assert REPLAYED not in first.headers, first.headers
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers.get(REPLAYED) == "true", f"{route}: {dict(again.headers)}"


# ---------------------------------------------------------------------------------------------- caching


def test_catalog_reads_revalidate_with_if_none_match(http: Http, tokens: dict[str, str]) -> None:
    product_id, _ = stocked_sku(http, tokens["admin"], 3)
    for path in ("/products", f"/products/{product_id}", "/categories"):
        # Given a first read with its ETag and Cache-Control
        first = http("GET", path)
        assert first.status_code == 200, first.text
        tag = first.headers.get("ETag")
        assert tag, f"GET {path} has no ETag"
        assert "max-age" in first.headers.get("Cache-Control", ""), f"GET {path}: {first.headers}"
        # When the client revalidates its copy
        again = http("GET", path, headers={"If-None-Match": tag})
        # Then it is told nothing changed, without a body, and keeps the same tag
        assert again.status_code == 304, f"GET {path} with If-None-Match: {again.status_code}"
        assert again.content == b""
        assert again.headers.get("ETag") == tag
        # And another tag gets the whole answer
        other = http("GET", path, headers={"If-None-Match": '"not-this-one"'})
        assert other.status_code == 200


def test_a_replace_with_a_stale_if_match_is_refused_with_412(http: Http, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    product_id, sku = stocked_sku(http, admin, 1)
    read = http("GET", f"/products/{product_id}")
    tag = read.headers["ETag"]
    body = {
        "name": "Renamed by the first admin",
        "description": "A lantern for tests.",
        "category": "outdoor",
        "price": {"amount": 1500, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    # Given a first admin replaced the product with the tag both admins read
    first = http("PUT", f"/products/{product_id}", json=body, token=admin, headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    assert first.headers.get("ETag") not in (None, tag)
    # When the second admin replaces it with the same, now stale, tag
    second = http(
        "PUT",
        f"/products/{product_id}",
        json=body | {"name": "Renamed by the second admin"},
        token=admin,
        headers={"If-Match": tag},
    )
    # Then it is refused with 412 in the one error shape, and the first admin's change stands
    assert second.status_code == 412, second.text
    assert second.json()["error"]["code"]
    assert http("GET", f"/products/{product_id}").json()["name"] == "Renamed by the first admin"
    # And the fresh tag is accepted
    fresh = http(
        "PUT",
        f"/products/{product_id}",
        json=body | {"name": "Renamed again"},
        token=admin,
        headers={"If-Match": first.headers["ETag"]},
    )
    assert fresh.status_code == 200, fresh.text
