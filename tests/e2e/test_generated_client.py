"""A shopper's and an admin's journeys through the Python client that `openapi-python-client` generates
from `docs/openapi.json`, and nothing else: no hand-written HTTP reaches the API here (paying is
localstripe's part, done as a browser would, like the other e2e tests).

The client is generated at test time into a temporary directory and imported; a generator warning or an
operation it leaves out fails the module before a request is sent. Operations are looked up by the
(METHOD, path) the document gives them, and request bodies are built with the generated body models
(`from_dict`), so the journeys follow whatever names the document picks. The clients are made with
`raise_on_unexpected_status`: a status the document does not declare for a route fails the journey."""

import importlib
import json
import re
import sys
import typing
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from openapi_python_client.strings import PythonIdentifier

from clients.check import DOCUMENT, PACKAGE, generate_python, operation_module, operations
from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, poll

pytestmark = pytest.mark.e2e
TIMEOUT = 30.0


@dataclass
class Answer:
    """What a generated `sync_detailed` returned, read as a client reads it."""

    status: int
    headers: dict[str, str]
    parsed: Any
    """The generated model the document declares for this status (`None` if it declares no body)."""

    @property
    def json(self) -> Any:
        return self.parsed.to_dict() if hasattr(self.parsed, "to_dict") else self.parsed


class GeneratedApi:
    """The generated package, called by route: `api("POST /orders", token=..., body={...}, idempotency_key=k)`.
    Keyword arguments are the generated function's own (snake_case path, query and header parameters)."""

    def __init__(self, package: ModuleType, document: dict[str, Any], base_url: str) -> None:
        self.package = package
        self.base_url = base_url
        self.routes = {(method, path): op for method, path, op in operations(document)}

    def client(self, token: str | None) -> Any:
        import httpx

        options: dict[str, Any] = {"base_url": self.base_url, "timeout": httpx.Timeout(TIMEOUT)}
        options["raise_on_unexpected_status"] = True
        if token is None:
            return self.package.Client(**options)
        return self.package.AuthenticatedClient(token=token, **options)

    def module(self, route: str) -> ModuleType:
        method, path = route.split(" ", 1)
        return importlib.import_module(f"{PACKAGE}.{operation_module(self.routes[(method, path)])}")

    def __call__(self, route: str, *, token: str | None = None, body: Any = None, **params: Any) -> Answer:
        function = self.module(route).sync_detailed
        if body is not None:
            params["body"] = _model_of(function).from_dict(body)
        response = function(client=self.client(token), **params)
        return Answer(int(response.status_code), dict(response.headers), response.parsed)

    def follow(self, location: str, token: str | None = None) -> Answer:
        """GET what a `Location` names, through the generated operation whose path matches it."""
        path = urlsplit(location).path
        for method, template in self.routes:
            names = re.findall(r"{(\w+)}", template)
            pattern = "^" + re.sub(r"\\{\w+\\}", "([^/]+)", re.escape(template)) + "$"
            if method == "GET" and (found := re.match(pattern, path)):
                python_names = [PythonIdentifier(value=name, prefix="field_") for name in names]
                return self(f"GET {template}", token=token, **dict(zip(python_names, found.groups(), strict=True)))
        raise AssertionError(f"no GET operation in the document matches Location {location!r}")


def _model_of(function: Any) -> Any:
    """The generated body model of an operation, from the annotation of its `body` parameter."""
    hint = typing.get_type_hints(function)["body"]
    for candidate in (hint, *typing.get_args(hint)):
        if hasattr(candidate, "from_dict"):
            return candidate
    raise AssertionError(f"no body model in {hint!r}")


@pytest.fixture(scope="module")
def api(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> GeneratedApi:
    out = tmp_path_factory.mktemp("generated-client")
    generate_python(DOCUMENT, out)  # raises on any generator warning or operation left out
    sys.path.insert(0, str(out))
    package = importlib.import_module(PACKAGE)
    return GeneratedApi(package, json.loads(DOCUMENT.read_text()), stack.api)


def _key(purpose: str) -> str:
    return f"gen-{purpose}-{uuid.uuid4().hex}"


def _new_product(api: GeneratedApi, admin: str, units: int, price: int) -> tuple[str, str]:
    """Admin: create a product, wait for its stock record, put `units` on the shelf: (productId, sku)."""
    sku = f"GEN-{uuid.uuid4().hex[:10].upper()}"
    product = {
        "name": f"Generated Lantern {sku[-4:]}",
        "description": "A lantern bought through the generated client.",
        "category": "outdoor",
        "price": {"amount": price, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    created = api("POST /products", token=admin, body=product)
    assert created.status == 201, created.json
    product_id = created.json["productId"]
    poll(lambda: api("GET /inventory/{sku}", token=admin, sku=sku).status, lambda status: status == 200)
    adjustment = {"delta": units, "reason": "restock"}
    adjusted = api("POST /inventory/{sku}/adjustments", token=admin, sku=sku, body=adjustment)
    assert adjusted.status == 201, adjusted.json
    return product_id, sku


def _stock(api: GeneratedApi, admin: str, sku: str) -> tuple[int, int, int]:
    level = api("GET /inventory/{sku}", token=admin, sku=sku).json
    return level["available"], level["reserved"], level["sold"]


def _order(api: GeneratedApi, token: str, order_id: str, *statuses: str) -> dict[str, Any]:
    """Poll the order (through the client) until it is in one of `statuses`."""
    answer: Answer = poll(
        lambda: api("GET /orders/{orderId}", token=token, order_id=order_id),
        lambda a: a.status == 200 and a.json["status"] in statuses,
    )
    return dict(answer.json)


def _check_out(api: GeneratedApi, token: str, sku: str, quantity: int) -> tuple[str, dict[str, Any]]:
    """Check out with a fresh key, follow `Location`, and return (orderId, the order found there)."""
    checkout = {"items": [{"sku": sku, "quantity": quantity}], "shippingAddress": ADDRESS}
    placed = api("POST /orders", token=token, body=checkout, idempotency_key=_key("checkout"))
    assert placed.status == 202, placed.json
    order_id = placed.json["orderId"]
    followed = api.follow(placed.headers["location"], token)
    assert followed.status == 200, followed.json
    assert followed.json["orderId"] == order_id
    return order_id, followed.json


def test_a_shopper_browses_checks_out_pays_lists_and_cancels(
    stack: LocalStack, api: GeneratedApi, tokens: dict[str, str]
) -> None:
    admin, alice = tokens["admin"], tokens["alice"]
    # Given a new outdoor product with 3 units on the shelf
    product_id, sku = _new_product(api, admin, units=3, price=1800)
    # When she browses the category a few products at a time, following nextCursor to the end
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = api("GET /products", category="outdoor", limit=3, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.json
        seen += [item["productId"] for item in page.json["items"]]
        pages += 1
        cursor = page.json["nextCursor"]
        if cursor is None:
            break
    # Then every product is seen once, the new one among them, over several pages
    assert pages > 1
    assert len(seen) == len(set(seen))
    assert product_id in seen
    assert api("GET /products/{productId}", product_id=product_id).json["variants"][0]["sku"] == sku
    # When she checks out 2 with an Idempotency-Key and follows Location
    order_id, order = _check_out(api, alice, sku, 2)
    assert order["total"] == {"amount": 3600, "currency": "EUR"}
    # Then, polling, it awaits payment with a client secret, and she pays
    awaiting = _order(api, alice, order_id, "AWAITING_PAYMENT")
    assert awaiting["payment"]["clientSecret"]
    pay(stack, order_id)
    assert _order(api, alice, order_id, "PAID")["status"] == "PAID"
    # And the order is in her list (walked with cursors)
    mine: list[str] = []
    cursor = None
    while True:
        page = api("GET /me/orders", token=alice, limit=10, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.json
        mine += [item["orderId"] for item in page.json["items"]]
        cursor = page.json["nextCursor"]
        if order_id in mine or cursor is None:
            break
    assert order_id in mine
    # When she cancels it, saying why
    cancel = {"reason": "changed my mind"}
    cancelled = api("POST /orders/{orderId}/cancel", token=alice, order_id=order_id, body=cancel)
    assert cancelled.status == 202, cancelled.json
    # Then it is refunded in full and its units are back on the shelf
    final = _order(api, alice, order_id, "CANCELLED")
    assert final["refundedTotal"] == final["total"]
    assert _stock(api, admin, sku) == (3, 0, 2)


def test_an_admin_creates_stocks_ships_and_refunds(
    stack: LocalStack, api: GeneratedApi, tokens: dict[str, str]
) -> None:
    admin, bob = tokens["admin"], tokens["bob"]
    # Given a product the admin creates and stocks with 4 units
    _, sku = _new_product(api, admin, units=4, price=2000)
    assert _stock(api, admin, sku) == (4, 0, 0)
    # And a paid order of 2 from Bob
    order_id, _ = _check_out(api, bob, sku, 2)
    _order(api, bob, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    _order(api, admin, order_id, "PAID")
    # When the admin ships it
    shipment = {"carrier": "DHL", "trackingNumber": "00340434161234567890"}
    shipped = api("POST /orders/{orderId}/shipments", token=admin, order_id=order_id, body=shipment)
    assert shipped.status == 200, shipped.json
    assert shipped.json["status"] == "SHIPPED"
    # And refunds part of it, then the rest with the goods back on the shelf
    partial = {"amount": {"amount": 1500, "currency": "EUR"}, "reason": "a scratch"}
    key = _key("refund")
    for _ in range(2):  # a retry with the same key refunds once
        refunded = api(
            "POST /orders/{orderId}/refunds", token=admin, order_id=order_id, body=partial, idempotency_key=key
        )
        assert refunded.status == 200, refunded.json
    assert (refunded.json["status"], refunded.json["refundedTotal"]["amount"]) == ("PARTIALLY_REFUNDED", 1500)
    rest = {"reason": "returned", "restock": True}
    refunded = api(
        "POST /orders/{orderId}/refunds", token=admin, order_id=order_id, body=rest, idempotency_key=_key("r")
    )
    assert refunded.status == 200, refunded.json
    # Then the order is refunded in full, its shipment kept, and the stock counts the return
    assert (refunded.json["status"], refunded.json["refundedTotal"]["amount"]) == ("REFUNDED", 4000)
    assert _order(api, bob, order_id, "REFUNDED")["shipment"]["carrier"] == "DHL"
    assert _stock(api, admin, sku) == (4, 0, 2)


def test_a_shopper_cancels_without_giving_a_reason(api: GeneratedApi, tokens: dict[str, str]) -> None:
    # Given an order awaiting payment
    _, sku = _new_product(api, tokens["admin"], units=1, price=900)
    order_id, _ = _check_out(api, tokens["alice"], sku, 1)
    _order(api, tokens["alice"], order_id, "AWAITING_PAYMENT")
    # When she cancels it with the generated function as it comes, the optional body left out
    cancelled = api("POST /orders/{orderId}/cancel", token=tokens["alice"], order_id=order_id)
    # Then it is cancelled and its unit back on the shelf
    assert cancelled.status == 202, cancelled.json
    assert _order(api, tokens["alice"], order_id, "CANCELLED")["reason"] == "cancelled by the customer"
    assert _stock(api, tokens["admin"], sku) == (1, 0, 0)
