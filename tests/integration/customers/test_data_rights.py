"""A customer's data rights: `GET /me/export` hands over everything customers keeps about the caller,
`DELETE /me` forgets it (after orders has anonymised the caller's orders) and leaves others alone."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.contracts import AnonymisedOrders
from common.errors import ServiceUnavailable
from customers import api
from customers.adapters import CognitoLogins

from .conftest import World, line, paid, refunded, snapshot

Event = Callable[..., dict[str, Any]]
ADDRESS = {
    "name": "Alice Example",
    "line1": "1 Harbour Street",
    "city": "Hamburg",
    "postalCode": "20457",
    "country": "DE",
}


@dataclass
class FakeOrders:
    """Our `Orders` port, as `AnonymiseOrdersFunction` behaves: it names the orders still to ship."""

    open: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def anonymise(self, customer_id: str) -> AnonymisedOrders:
        self.asked.append(customer_id)
        return AnonymisedOrders(anonymised=[], open=self.open.get(customer_id, []))


@pytest.fixture
def orders(monkeypatch: pytest.MonkeyPatch) -> FakeOrders:
    fake = FakeOrders()
    monkeypatch.setattr(api, "orders", lambda: fake)
    return fake


def me(world: World, api_event: Event, method: str, path: str, sub: str = "alice", **kwargs: Any) -> Any:
    return world.call(api_event(method, path, sub=sub, **kwargs))


def _customer_with_history(world: World, api_event: Event, sub: str) -> None:
    me(world, api_event, "PUT", "/me", sub=sub, body={"name": f"{sub} Example", "marketingConsent": True})
    assert me(world, api_event, "POST", "/me/addresses", sub=sub, body=ADDRESS).status == 201
    lines = [line("p1", 2, price=1500)]
    paid(world, f"o_{sub}1", sub, *lines)
    refunded(world, f"o_{sub}1", sub, lines, refund_id="r_1", amount=500, total=500)


def _items_of(world: World, sub: str) -> list[str]:
    response = world.dynamodb.query(
        TableName=world.store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{sub}"}},
    )
    return sorted(item["SK"]["S"] for item in response["Items"])


def test_the_export_holds_profile_consents_addresses_and_orders(world: World, api_event: Event) -> None:
    # Given Alice with a profile, an address and a paid, partly refunded order; support noted something
    _customer_with_history(world, api_event, "alice")
    staff = api_event("POST", "/admin/customers/alice/notes", sub="sam", groups=["support"], body={"text": "VIP"})
    assert world.call(staff).status == 201
    # When she exports her data
    exported = me(world, api_event, "GET", "/me/export")
    # Then it is a JSON download of everything customers keeps about her, staff notes excepted
    assert exported.status == 200, exported.body
    assert exported.headers["Content-Disposition"].startswith("attachment")
    body = exported.body
    assert body["customerId"] == "alice"
    assert body["profile"]["name"] == "alice Example"
    assert body["consents"]["marketingEmail"] is True
    assert [a["line1"] for a in body["addresses"]] == ["1 Harbour Street"]
    (order,) = body["orders"]
    assert order["orderId"] == "o_alice1"
    assert order["total"] == {"amount": 3000, "currency": "EUR"}
    assert order["refundedTotal"] == {"amount": 500, "currency": "EUR"}
    assert order["lines"][0]["sku"] == "SKU-P1" and order["lines"][0]["quantity"] == 2
    assert body["offers"] == []
    assert "notes" not in body and "VIP" not in str(body)


def test_the_export_of_a_stranger_is_empty_not_an_error(world: World, api_event: Event) -> None:
    exported = me(world, api_event, "GET", "/me/export", sub="nobody")
    assert exported.status == 200
    assert (exported.body["addresses"], exported.body["orders"]) == ([], [])


def test_erasure_forgets_the_customer_and_asks_orders_to_anonymise(
    world: World, api_event: Event, orders: FakeOrders
) -> None:
    # Given Alice and Bob, both with profiles, addresses and orders
    _customer_with_history(world, api_event, "alice")
    _customer_with_history(world, api_event, "bob")
    bob_before = _items_of(world, "bob")
    # When Alice erases her data
    erased = me(world, api_event, "DELETE", "/me")
    # Then orders was asked to anonymise her orders, and nothing of her is left but the erasure marker
    assert erased.status == 204, erased.body
    assert orders.asked == ["alice"]
    assert _items_of(world, "alice") == ["ERASED"]
    assert me(world, api_event, "GET", "/me/addresses").body["items"] == []
    profile = me(world, api_event, "GET", "/me").body
    assert (profile["name"], profile["summary"]["orderCount"]) == (None, 0)
    # And Bob's data is untouched
    assert _items_of(world, "bob") == bob_before
    assert me(world, api_event, "GET", "/me/addresses", sub="bob").body["items"][0]["line1"] == "1 Harbour Street"
    # And a second erasure is harmless
    assert me(world, api_event, "DELETE", "/me").status == 204
    assert _items_of(world, "alice") == ["ERASED"]


def test_a_late_event_of_an_erased_customers_old_order_does_not_bring_the_history_back(
    world: World, api_event: Event, orders: FakeOrders
) -> None:
    # Given Alice erased after her first order (placed yesterday)
    lines = [line("p1", 1)]
    yesterday = datetime.now(UTC) - timedelta(days=1)
    paid(world, "o_1", "alice", *lines, created_at=yesterday)
    assert me(world, api_event, "DELETE", "/me").status == 204
    # When a refund of that old order arrives afterwards
    data = {
        "order": snapshot("o_1", "alice", lines, status="REFUNDED", refunded=1000, created_at=yesterday),
        "refundId": "r_9",
        "amount": {"amount": 1000, "currency": "EUR"},
        "restocked": False,
    }
    world.deliver("OrderRefunded", "OrderRefunded#o_1#r_9", data)
    # Then nothing of hers is written again
    assert _items_of(world, "alice") == ["ERASED"]


def test_erasure_waits_for_orders_still_to_ship(world: World, api_event: Event, orders: FakeOrders) -> None:
    # Given an order of Alice that is paid but not shipped
    _customer_with_history(world, api_event, "alice")
    orders.open["alice"] = ["o_open"]
    # When she asks to be erased, she is told which orders need their address still
    refused = me(world, api_event, "DELETE", "/me")
    assert refused.status == 409
    assert refused.body["error"]["code"] == "orders_still_open"
    assert refused.body["error"]["details"] == {"orderIds": ["o_open"]}
    # And nothing was deleted
    assert "PROFILE" in _items_of(world, "alice")


def test_erasure_needs_a_signed_in_caller(world: World, api_event: Event, orders: FakeOrders) -> None:
    assert world.call(api_event("DELETE", "/me")).status == 401
    assert world.call(api_event("GET", "/me/export")).status == 401
    assert orders.asked == []


# ---------------------------------------------------------------- erasure reaches payments and the login


def test_erasure_deletes_the_stripe_customer_and_the_login_and_the_export_shows_nothing(
    world: World, api_event: Event, orders: FakeOrders
) -> None:
    # Given Alice who paid before: payments keeps her Stripe Customer, and her profile names it
    _customer_with_history(world, api_event, "alice")
    world.payments.give("alice", "cus_alice", ("visa", "4242", 12, 2030))
    assert me(world, api_event, "GET", "/me/payment-methods").status == 200
    assert me(world, api_event, "GET", "/me/export").body["profile"]["stripeCustomerId"] == "cus_alice"

    # When she erases her data
    assert me(world, api_event, "DELETE", "/me").status == 204

    # Then payments was asked to forget her, and her login was deleted, after everything else
    assert world.payments.forgotten == ["alice"]
    assert world.logins.deleted == ["alice"]
    # And her export (with a token still valid) names no Stripe Customer, card, address or order
    exported = me(world, api_event, "GET", "/me/export").body
    assert exported["profile"]["stripeCustomerId"] is None
    assert (exported["addresses"], exported["orders"], exported["offers"]) == ([], [], [])
    assert me(world, api_event, "GET", "/me/payment-methods").body["items"] == []
    # And a second erasure is harmless
    assert me(world, api_event, "DELETE", "/me").status == 204


def test_erasure_waiting_for_open_orders_keeps_the_stripe_customer_and_the_login(
    world: World, api_event: Event, orders: FakeOrders
) -> None:
    _customer_with_history(world, api_event, "alice")
    orders.open["alice"] = ["o_open"]
    assert me(world, api_event, "DELETE", "/me").status == 409
    assert (world.payments.forgotten, world.logins.deleted) == ([], [])


def test_erasure_with_payments_unavailable_keeps_the_login_to_retry_with(
    world: World, api_event: Event, orders: FakeOrders, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given payments that cannot reach Stripe right now
    _customer_with_history(world, api_event, "alice")

    def unavailable(customer_id: str) -> Any:
        raise ServiceUnavailable("payments is briefly unavailable; retry")

    monkeypatch.setattr(world.payments, "forget", unavailable)

    # When she erases her data, it is a 503 and nothing is gone yet: she can sign in and retry
    assert me(world, api_event, "DELETE", "/me").status == 503
    assert "PROFILE" in _items_of(world, "alice")
    assert world.logins.deleted == []


def test_erasure_deletes_the_cognito_user(
    world: World, api_event: Event, orders: FakeOrders, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Alice and Bob signed up in the user pool (moto), and the real Cognito adapter
    subs = {}
    for email in ("alice@example.com", "bob@example.com"):
        world.cognito.admin_create_user(UserPoolId=world.user_pool_id, Username=email)
        attributes = world.cognito.admin_get_user(UserPoolId=world.user_pool_id, Username=email)["UserAttributes"]
        subs[email] = next(a["Value"] for a in attributes if a["Name"] == "sub")
    monkeypatch.setattr(api, "logins", CognitoLogins)

    # When Alice erases her data (her token's sub is her Cognito user name)
    alice = subs["alice@example.com"]
    assert me(world, api_event, "DELETE", "/me", sub=alice).status == 204

    # Then her login is gone from the pool, Bob's is not
    with pytest.raises(world.cognito.exceptions.UserNotFoundException):
        world.cognito.admin_get_user(UserPoolId=world.user_pool_id, Username="alice@example.com")
    assert world.cognito.admin_get_user(UserPoolId=world.user_pool_id, Username="bob@example.com")["Enabled"]
    # And a retry, whose login is gone already, still answers 204
    assert me(world, api_event, "DELETE", "/me", sub=alice).status == 204
