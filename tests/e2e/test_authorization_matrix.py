"""Every route of the API, times every kind of caller, with the status each must get.

The table is keyed by (METHOD, path) exactly as `docs/openapi.json` and `template.yaml` name routes: a
route in either without a row fails the test, so a new route cannot ship without deciding who may
call it. Ids in paths are real objects made for this module (a product, alice's order and address, an
affiliate application, a report run), so "another customer" meets alice's objects and must get 404,
never 403 and never 200. Callers without the role get 401/403 even with an empty body (`requires` runs
before validation); callers with it send a minimal valid body and get the success status, or the
documented 4xx the object's state calls for (a pending order cannot be shipped: 409)."""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from local.template import Template
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, place, poll, stocked_sku

ROOT = Path(__file__).resolve().parents[2]
CALLERS = ("anonymous", "bob", "affiliate", "support", "alice", "admin")
GROUPS = {"affiliate": "affiliate", "support": "support", "admin": "admin"}
"""In the order they call: the owner (alice) and admin come last, so what they change or delete has
been seen unchanged by everyone else first."""

Route = tuple[str, str]
FRESH_ORDER: set[Route] = {("POST", "/orders/{orderId}/cancel")}
THROWAWAY: set[Route] = {("DELETE", "/me"), ("POST", "/affiliates")}
"""Rows each caller calls as a fresh user of its role: they change the caller's own account for good."""
REDIRECTS: set[Route] = {("GET", "/reports/runs/{runId}/files/{name}")}
"""Rows answered with a redirect: called without following it, so the status is the route's own."""
APPLICATION = {"name": "Matrix Blog", "website": "https://matrix.example.com", "payoutEmail": "pay@example.com"}
MATRIX_COUNTRY = "IS"
MATRIX_METHOD = {"name": "Matrix Post", "countries": [MATRIX_COUNTRY], "price": {"amount": 990, "currency": "EUR"}}
# a campaign and a day no other test reports on
MATRIX_CAMPAIGN = "matrix-campaign"
MATRIX_SPEND = {"date": "2020-01-01", "amount": {"amount": 100, "currency": "EUR"}}


@dataclass(frozen=True)
class Row:
    """Expected status per caller; `body` is sent to every caller (`None`: no body)."""

    anonymous: int
    alice: int
    bob: int
    affiliate: int
    support: int
    admin: int
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)


def everyone(status: int, **kw: Any) -> Row:
    return Row(status, status, status, status, status, status, **kw)


def signed_in(status: int, **kw: Any) -> Row:
    """Any signed-in caller acting on their own account."""
    return Row(401, status, status, status, status, status, **kw)


def staff(admin: int, support: int = 403, **kw: Any) -> Row:
    return Row(401, 403, 403, 403, support, admin, **kw)


def admin_only(status: int, **kw: Any) -> Row:
    return staff(status, 403, **kw)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def matrix() -> dict[Route, Row]:
    sku = _unique("MTX")
    product = {
        "name": "Matrix Lamp",
        "description": "A lamp for the authorization matrix.",
        "category": "outdoor",
        "price": {"amount": 900, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    return {
        # ------------------------------------------------------------------ public
        ("GET", "/products"): everyone(200),
        ("GET", "/products/{productId}"): everyone(200),
        ("GET", "/products/{productId}/recommendations"): everyone(200),
        ("GET", "/categories"): everyone(200),
        ("POST", "/analytics/visits"): everyone(200, body={"sessionId": "matrix-session-1", "path": "/"}),
        # anonymous and read-only: a token changes nothing (a coupon's per-customer rules wait for checkout)
        ("POST", "/quotes"): everyone(200, body="quote"),
        ("GET", "/shipping-methods"): everyone(200, query={"country": "DE"}),
        # no Stripe signature: 400 for everyone, token or not
        ("POST", "/payments/webhook"): everyone(400, body={"id": "evt_matrix", "type": "payment_intent.succeeded"}),
        # ------------------------------------------------------------------ customers
        ("POST", "/orders"): Row(401, 202, 202, 202, 202, 202, body="checkout"),
        # staff read and cancel any order; another customer learns nothing, not even that it exists
        ("GET", "/orders/{orderId}"): Row(401, 200, 404, 404, 200, 200),
        # each caller gets an order of alice's of its own (`FRESH_ORDER`), so no cancel sees another's
        ("POST", "/orders/{orderId}/cancel"): Row(401, 202, 404, 404, 202, 202, body={"reason": "matrix"}),
        ("GET", "/me"): signed_in(200),
        ("PUT", "/me"): signed_in(200, body={"name": "Matrix Caller", "marketingConsent": False}),
        ("GET", "/me/orders"): signed_in(200),
        ("GET", "/me/offers"): signed_in(200),  # each caller's own coupons only (an empty list is a 200)
        ("GET", "/me/addresses"): signed_in(200),
        ("POST", "/me/addresses"): signed_in(201, body=ADDRESS),
        ("GET", "/me/addresses/{addressId}"): Row(401, 200, 404, 404, 404, 404),
        ("DELETE", "/me/addresses/{addressId}"): Row(401, 204, 404, 404, 404, 404),
        ("GET", "/me/recommendations"): signed_in(200),
        ("GET", "/me/payment-methods"): signed_in(200),
        ("GET", "/me/export"): signed_in(200),
        ("DELETE", "/me"): signed_in(204),  # throwaway users: the demo users stay
        ("POST", "/affiliates"): signed_in(201, body=APPLICATION),  # throwaway users: one application each
        # one's own account, pending or approved (POST /affiliates' Location): only the affiliate has one
        ("GET", "/affiliates/me"): Row(401, 404, 404, 200, 404, 404),
        # affiliate and admin roles; admin has no affiliate account of its own
        ("GET", "/affiliates/me/commissions"): Row(401, 403, 403, 200, 403, 404),
        ("GET", "/affiliates/me/stats"): Row(401, 403, 403, 200, 403, 404),
        # ------------------------------------------------------------------ staff
        ("POST", "/products"): admin_only(201, body=product),
        ("PUT", "/products/{productId}"): admin_only(200, body="product"),
        ("DELETE", "/products/{productId}"): admin_only(200),
        ("GET", "/inventory"): staff(200, 200),
        ("GET", "/inventory/{sku}"): staff(200, 200),
        ("GET", "/inventory/{sku}/ledger"): staff(200, 200),
        ("PUT", "/inventory/{sku}"): admin_only(200, body={"lowStockThreshold": 3}),
        ("POST", "/inventory/{sku}/adjustments"): admin_only(201, body={"delta": 1, "reason": "restock"}),
        ("GET", "/admin/orders"): staff(200, 200, query={"status": "PENDING"}),
        # alice's order is not flagged for staff: nothing to re-drive or clear
        ("POST", "/admin/orders/{orderId}/redrive"): admin_only(409),
        ("POST", "/admin/orders/{orderId}/attention/clear"): admin_only(409, body={"note": "matrix"}),
        ("POST", "/orders/{orderId}/shipments"): admin_only(409, body={"carrier": "DHL", "trackingNumber": "MTX1"}),
        ("POST", "/orders/{orderId}/refunds"): staff(409, 409, body={"reason": "matrix"}),
        ("POST", "/coupons"): admin_only(201, body="coupon"),
        ("GET", "/coupons"): admin_only(200),
        ("GET", "/coupons/{code}"): admin_only(200),
        ("POST", "/coupons/{code}/end"): admin_only(200),
        # a method for a country nobody checks out to: the stack's other tests keep their shipping
        ("POST", "/shipping-methods"): admin_only(201, body=MATRIX_METHOD),
        ("GET", "/shipping-methods/{shippingMethodId}"): admin_only(200),
        ("PUT", "/shipping-methods/{shippingMethodId}"): admin_only(200, body=MATRIX_METHOD),
        ("DELETE", "/shipping-methods/{shippingMethodId}"): admin_only(204),
        ("PUT", "/tax-rates/{country}"): admin_only(200, body={"standard": "17"}),
        ("GET", "/tax-rates"): admin_only(200),
        ("GET", "/admin/customers"): staff(200, 200, query={"q": "al"}),
        ("GET", "/admin/customers/{customerId}"): staff(200, 200),
        ("POST", "/admin/customers/{customerId}/notes"): staff(201, 201, body={"text": "matrix note"}),
        ("GET", "/admin/affiliates"): admin_only(200),
        ("GET", "/admin/reconciliation"): admin_only(200),
        ("POST", "/affiliates/{affiliateId}/approve"): admin_only(200, body={"commissionRate": 0.1}),
        ("POST", "/affiliates/{affiliateId}/payouts"): admin_only(200),
        ("GET", "/reports/sales"): admin_only(200),
        ("GET", "/reports/top-products"): admin_only(200),
        ("GET", "/reports/customers"): admin_only(200),
        ("GET", "/reports/campaigns"): admin_only(200),
        ("PUT", "/reports/campaigns/{campaign}/spend"): admin_only(200, body=MATRIX_SPEND),
        ("GET", "/reports/affiliates"): admin_only(200),
        ("GET", "/reports/payments"): admin_only(200),
        ("POST", "/reports/runs"): admin_only(202, body={"kind": "daily-report"}),
        ("GET", "/reports/runs/{runId}"): admin_only(200),
        # a redirect to a short-lived download link: the row's status is the 302 itself (`REDIRECTS`)
        ("GET", "/reports/runs/{runId}/files/{name}"): admin_only(302),
    }


def spec_routes() -> set[Route]:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def template_routes() -> set[Route]:
    return {(r.method, r.path) for r in Template(ROOT / "template.yaml").routes() if r.method != "OPTIONS"}


def test_every_route_has_a_row() -> None:
    # Given the routes the document and the template declare
    spec, template = spec_routes(), template_routes()

    # Then they agree, and the table has a row for each, and none for a route that does not exist
    assert spec == template, f"only in the spec: {spec - template}; only in template.yaml: {template - spec}"
    assert set(matrix()) == spec, f"rows missing: {spec - set(matrix())}; rows extra: {set(matrix()) - spec}"


class Api:
    def __init__(self, stack: LocalStack) -> None:
        self.base = stack.api
        self.session = requests.Session()
        self.calls = 0

    def __call__(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        self.calls += 1
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Api:
    return Api(stack)


@dataclass
class World:
    """The objects the rows' paths name."""

    ids: dict[str, str]
    product: dict[str, Any]
    tokens: dict[str, str]
    sku: str


@pytest.fixture(scope="module")
def world(stack: LocalStack, tokens: dict[str, str], api: Api) -> Iterator[World]:
    admin, alice = tokens["admin"], tokens["alice"]
    product_id, sku = stocked_sku(api_as_http(api), admin, units=50)
    product = api("GET", f"/products/{product_id}").json()
    order = place(api_as_http(api), alice, sku)
    assert order.status_code == 202, order.text
    address = api("POST", "/me/addresses", alice, json=ADDRESS)
    assert address.status_code == 201, address.text
    me = api("GET", "/me", alice).json()
    # the "affiliate" caller: a user of the affiliate group with an approved account
    affiliate = stack.token(f"matrix-affiliate-{uuid.uuid4().hex[:6]}@example.com", "affiliate")
    approved = api("POST", "/affiliates", affiliate, json=APPLICATION).json()["affiliateId"]
    approval = api("POST", f"/affiliates/{approved}/approve", admin, json={"commissionRate": 0.1})
    assert approval.status_code == 200, approval.text
    # the application the approve and payout rows act on, pending
    applicant = stack.token(f"matrix-applicant-{uuid.uuid4().hex[:6]}@example.com")
    application = api("POST", "/affiliates", applicant, json=APPLICATION)
    assert application.status_code == 201, application.text
    coupon = api("POST", "/coupons", admin, json={"code": _unique("MTXGET"), "type": "percent", "value": 5})
    assert coupon.status_code == 201, coupon.text
    # serving DE, so the checkout rows (DE, no method named) are charged it; the rows' own go to IS
    method = api("POST", "/shipping-methods", admin, json=MATRIX_METHOD | {"countries": ["DE"]})
    assert method.status_code == 201, method.text
    run = api("POST", "/reports/runs", admin, json={"kind": "daily-report"})
    assert run.status_code == 202, run.text
    done = poll(lambda: api("GET", run.headers["Location"], admin).json(), lambda r: r["status"] in ("DONE", "FAILED"))
    assert done["status"] == "DONE", done
    yield World(
        ids={
            "productId": product_id,
            "sku": sku,
            "orderId": order.json()["orderId"],
            "addressId": address.json()["addressId"],
            "customerId": me["customerId"],
            "affiliateId": application.json()["affiliateId"],
            "runId": run.json()["runId"],
            "code": coupon.json()["code"],
            "shippingMethodId": method.json()["shippingMethodId"],
            "country": MATRIX_COUNTRY,
            "campaign": MATRIX_CAMPAIGN,
            "name": done["files"][0]["name"],
        },
        product=product,
        tokens={**tokens, "affiliate": affiliate},
        sku=sku,
    )
    # The stack's other tests check out as a shop without shipping methods does: archive the matrix's own
    for made in api("GET", "/shipping-methods").json()["items"]:
        if made["name"] == MATRIX_METHOD["name"]:
            archived = api("DELETE", f"/shipping-methods/{made['shippingMethodId']}", admin)
            assert archived.status_code == 204, archived.text


def api_as_http(api: Api) -> Any:
    """`shop.py` helpers take the `http` fixture's signature (`token=` as a keyword)."""
    return lambda method, path, *, token=None, **kw: api(method, path, token, **kw)


def _body(row: Row, world: World, sku: str) -> Any:
    if row.body == "checkout":
        return {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS}
    if row.body == "product":
        p = world.product
        return {
            "name": p["name"],
            "description": p["description"],
            "category": p["category"],
            "price": p["price"],
            "variants": [{"sku": v["sku"]} for v in p["variants"]],
        }
    if row.body == "coupon":
        return {"code": _unique("MTX"), "type": "percent", "value": 10}
    if row.body == "quote":
        return {"items": [{"sku": sku, "quantity": 1}], "country": "DE"}
    return row.body


def _ordered(rows: dict[Route, Row]) -> list[tuple[Route, Row]]:
    """Deletions last, so every other row still finds the objects it names."""
    return sorted(rows.items(), key=lambda item: item[0][0] == "DELETE")


def test_every_caller_gets_the_status_of_its_row(
    stack: LocalStack, tokens: dict[str, str], api: Api, world: World
) -> None:
    # Given the table, and real objects for the ids in its paths
    rows = matrix()
    mismatches: list[str] = []
    observed: dict[str, dict[str, int]] = {}

    # When every caller calls every route
    for (method, template_path), row in _ordered(rows):
        path = template_path.format(**{k: v for k, v in world.ids.items() if "{" + k + "}" in template_path})
        for caller in CALLERS:
            if caller == "anonymous":
                token = None
            elif (method, template_path) in THROWAWAY:
                token = stack.token(f"matrix-{caller}-{uuid.uuid4().hex[:6]}@example.com", GROUPS.get(caller))
            else:
                token = world.tokens[caller]
            if (method, template_path) in FRESH_ORDER:
                fresh = place(api_as_http(api), world.tokens["alice"], world.sku)
                assert fresh.status_code == 202, fresh.text
                path = template_path.format(orderId=fresh.json()["orderId"])
            body = _body(row, world, world.ids["sku"])
            kwargs: dict[str, Any] = {"params": row.query or None}
            if body is not None:
                kwargs["json"] = body
            if (method, template_path) == ("POST", "/orders"):
                kwargs["headers"] = {"Idempotency-Key": f"matrix-{uuid.uuid4().hex}"}
            if (method, template_path) in REDIRECTS:
                kwargs["allow_redirects"] = False
            response = api(method, path, token, **kwargs)
            observed.setdefault(f"{method} {template_path}", {})[caller] = response.status_code
            expected = getattr(row, caller)
            if response.status_code != expected:
                mismatches.append(
                    f"{method} {template_path} as {caller}: {response.status_code} (expected {expected}) "
                    f"{response.text[:160]}"
                )

    # Then each got exactly its row's status
    print(f"authorization matrix: {api.calls} calls")
    assert not mismatches, "\n".join(mismatches) + "\n\nobserved:\n" + json.dumps(observed, indent=1)
