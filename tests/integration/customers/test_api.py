"""The customers API as API Gateway hands it requests: one's profile and addresses, saved cards,
checkout's default address, and support's view, with the authorization matrix of customer data."""

from collections.abc import Callable
from typing import Any

import pytest

from common.contracts import DefaultAddress, ShippingAddress
from customers import tasks

from .conftest import World, line, paid, refunded

Event = Callable[..., dict[str, Any]]
ADDRESS = {
    "name": "Alice Example",
    "line1": "1 Harbour Street",
    "city": "Hamburg",
    "postalCode": "20457",
    "country": "DE",
}


def me(world: World, api_event: Event, method: str, path: str, sub: str = "alice", **kwargs: Any) -> Any:
    return world.call(api_event(method, path, sub=sub, **kwargs))


def test_a_profile_is_kept_and_shows_the_email_of_the_token(world: World, api_event: Event) -> None:
    # Given a new customer: an empty profile
    empty = me(world, api_event, "GET", "/me")
    assert empty.status == 200
    assert empty.body["name"] is None and empty.body["marketingConsent"] is False
    assert empty.body["summary"] == {
        "lifetimeValue": {"amount": 0, "currency": "EUR"},
        "orderCount": 0,
        "lastOrderAt": None,
        "favouriteCategories": [],
    }
    # When she gives her name, phone and consent
    body = {"name": "Alice", "phone": "+49 40 123456", "marketingConsent": True}
    put = me(world, api_event, "PUT", "/me", body=body)
    # Then they are kept, with the email of her token
    assert put.status == 200, put.body
    got = me(world, api_event, "GET", "/me").body
    assert (got["name"], got["phone"], got["marketingConsent"], got["email"]) == (
        "Alice",
        "+49 40 123456",
        True,
        "someone@example.com",
    )
    # And a malformed body is a 422 naming the field
    bad = me(world, api_event, "PUT", "/me", body={"name": "", "marketingConsent": "maybe"})
    assert bad.status == 422
    assert {d["field"] for d in bad.body["error"]["details"]} >= {"body.name", "body.marketingConsent"}


def test_the_summary_shows_paid_orders(world: World, api_event: Event) -> None:
    # Given two paid orders of Alice, one refunded in part
    lines = [line("p1", 2, price=1500)]
    paid(world, "o_1", "alice", *lines)
    paid(world, "o_2", "alice", line("p2", category="books"))
    refunded(world, "o_1", "alice", lines, refund_id="r1", amount=1000, total=1000)
    # When she reads her profile
    summary = me(world, api_event, "GET", "/me").body["summary"]
    # Then it adds up to what she paid net of refunds
    assert summary["lifetimeValue"] == {"amount": 3000, "currency": "EUR"}
    assert summary["orderCount"] == 2
    assert summary["favouriteCategories"] == ["kitchen", "books"]
    assert summary["lastOrderAt"].startswith("2030-03-01T12:00:00")


def test_the_stripe_customer_is_asked_of_payments_until_a_save_of_the_profile_keeps_it(
    world: World, api_event: Event
) -> None:
    # Given Alice paid, and payments knows her Stripe Customer
    paid(world, "o_1", "alice", line("p1"))
    world.payments.give("alice", "cus_alice")
    # When she reads her profile twice
    first = me(world, api_event, "GET", "/me").body
    second = me(world, api_event, "GET", "/me").body
    # Then it names the Stripe Customer, asked of payments each time: a read keeps nothing
    assert first["stripeCustomerId"] == second["stripeCustomerId"] == "cus_alice"
    assert world.payments.asked == ["alice", "alice"]
    # When she saves her profile, payments is asked once more and the profile keeps the id
    saved = me(world, api_event, "PUT", "/me", body={"name": "Alice", "marketingConsent": False}).body
    assert saved["stripeCustomerId"] == "cus_alice"
    assert world.payments.asked == ["alice"] * 3
    # Then later reads name it without asking payments again
    assert me(world, api_event, "GET", "/me").body["stripeCustomerId"] == "cus_alice"
    assert me(world, api_event, "GET", "/me").body["stripeCustomerId"] == "cus_alice"
    assert world.payments.asked == ["alice"] * 3


def test_reading_ones_profile_writes_nothing(world: World, api_event: Event) -> None:
    # Given Alice, who paid but never saved a profile, and payments that knows her Stripe Customer
    paid(world, "o_1", "alice", line("p1"))
    world.payments.give("alice", "cus_alice")
    before = world.items()
    # When she reads her profile
    got = me(world, api_event, "GET", "/me")
    # Then she gets the default profile with what she paid and her Stripe Customer
    assert got.status == 200
    assert (got.body["name"], got.body["marketingConsent"], got.body["stripeCustomerId"]) == (None, False, "cus_alice")
    assert got.body["summary"]["orderCount"] == 1
    # And the customers table is as it was: the read created no profile and kept no copy
    assert world.items() == before
    assert "PROFILE" not in {item["SK"]["S"] for item in world.items()}


def test_payment_methods_are_stripes_cards(world: World, api_event: Event) -> None:
    world.payments.give("alice", "cus_alice", ("visa", "4242", 12, 2030))
    answer = me(world, api_event, "GET", "/me/payment-methods")
    assert answer.status == 200
    assert answer.body == {
        "items": [{"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030}],
        "nextCursor": None,
    }
    assert me(world, api_event, "GET", "/me/payment-methods", sub="bob").body["items"] == []


def test_addresses_the_first_is_the_default_and_checkout_gets_it(world: World, api_event: Event) -> None:
    # When Alice keeps two addresses
    first = me(world, api_event, "POST", "/me/addresses", body=ADDRESS)
    second = me(world, api_event, "POST", "/me/addresses", body={**ADDRESS, "line1": "2 Elbe Road", "line2": "Flat 3"})
    # Then both are created, and the first is the default
    assert first.status == second.status == 201
    first_id, second_id = first.body["addressId"], second.body["addressId"]
    assert first.headers["Location"] == f"/dev/me/addresses/{first_id}"  # behind the stage the request came through
    listed = me(world, api_event, "GET", "/me/addresses").body["items"]
    assert [(a["addressId"], a["default"]) for a in listed] == [(first_id, True), (second_id, False)]
    # And checkout's default-address task answers the first, in checkout's shape
    answer = tasks.default_address_handler({"customerId": "alice"}, world.context)
    assert DefaultAddress.model_validate(answer) == DefaultAddress(address=ShippingAddress.model_validate(ADDRESS))
    # When a third is added as the default, then the default is deleted
    third = me(world, api_event, "POST", "/me/addresses", body={**ADDRESS, "city": "Bremen", "default": True})
    assert tasks.default_address_handler({"customerId": "alice"}, world.context)["address"]["city"] == "Bremen"
    assert me(world, api_event, "DELETE", f"/me/addresses/{third.body['addressId']}").status == 204
    # Then the newest remaining address becomes the default
    listed = me(world, api_event, "GET", "/me/addresses").body["items"]
    assert [(a["addressId"], a["default"]) for a in listed] == [(first_id, False), (second_id, True)]
    # And a customer without addresses has none for checkout
    assert tasks.default_address_handler({"customerId": "bob"}, world.context) == {"address": None}


def test_another_customers_address_is_not_found(world: World, api_event: Event) -> None:
    # Given Alice's address
    address_id = me(world, api_event, "POST", "/me/addresses", body=ADDRESS).body["addressId"]
    # When Bob tries to delete it, or an address that never was
    theirs = me(world, api_event, "DELETE", f"/me/addresses/{address_id}", sub="bob")
    never = me(world, api_event, "DELETE", "/me/addresses/a_00000000000000000000000000")
    # Then both are the same 404, and Alice still has it
    assert (theirs.status, never.status) == (404, 404)
    assert theirs.body["error"]["code"] == never.body["error"]["code"] == "address_not_found"
    assert len(me(world, api_event, "GET", "/me/addresses").body["items"]) == 1
    assert me(world, api_event, "GET", "/me/addresses", sub="bob").body["items"] == []


def test_at_most_twenty_addresses(world: World, api_event: Event) -> None:
    for _ in range(20):
        assert me(world, api_event, "POST", "/me/addresses", body=ADDRESS).status == 201
    answer = me(world, api_event, "POST", "/me/addresses", body=ADDRESS)
    assert (answer.status, answer.body["error"]["code"]) == (409, "too_many_addresses")


def given_a_customer_with_history(world: World, api_event: Event) -> None:
    me(world, api_event, "PUT", "/me", body={"name": "Alice", "marketingConsent": False})
    me(world, api_event, "POST", "/me/addresses", body=ADDRESS)
    lines = [line("p1", 2, price=1500)]
    paid(world, "o_1", "alice", *lines)
    refunded(world, "o_1", "alice", lines, refund_id="r1", amount=1000, total=1000)


@pytest.mark.parametrize("group", ["support", "admin"])
def test_staff_see_a_customers_view_and_add_notes(world: World, api_event: Event, group: str) -> None:
    given_a_customer_with_history(world, api_event)
    # When staff add a note and read the customer
    noted = world.call(
        api_event("POST", "/admin/customers/alice/notes", body={"text": "Called about a dent."}, groups=[group])
    )
    view = world.call(api_event("GET", "/admin/customers/alice", groups=[group]))
    # Then they see profile, addresses, the order with its payment status and refund, value and notes
    assert noted.status == 201, noted.body
    assert view.status == 200, view.body
    body = view.body
    assert body["profile"]["name"] == "Alice"
    assert body["profile"]["summary"]["lifetimeValue"] == {"amount": 2000, "currency": "EUR"}
    assert [a["city"] for a in body["addresses"]] == ["Hamburg"]
    (order,) = body["orders"]
    assert (order["orderId"], order["paymentStatus"], order["fulfillmentStatus"], order["refundedTotal"]["amount"]) == (
        "o_1",
        "PARTIALLY_REFUNDED",
        "UNFULFILLED",
        1000,
    )
    assert [r["refundId"] for r in order["refunds"]] == ["r1"]
    assert [(n["text"], n["author"]) for n in body["notes"]] == [("Called about a dent.", f"user-{group}")]


def test_authorization_matrix_for_customer_data(world: World, api_event: Event) -> None:
    given_a_customer_with_history(world, api_event)
    admin_routes = [
        ("GET", "/admin/customers/alice", None),
        ("POST", "/admin/customers/alice/notes", {"text": "hi"}),
    ]
    for method, path, body in admin_routes:
        # A customer, even the one the data is about, is refused; no token at all is a 401
        assert world.call(api_event(method, path, body=body, sub="alice")).status == 403
        assert world.call(api_event(method, path, body=body, sub="bob")).status == 403
        assert world.call(api_event(method, path, body=body)).status == 401
    # A customer's own routes need a token
    for method, path in [
        ("GET", "/me"),
        ("GET", "/me/addresses"),
        ("GET", "/me/recommendations"),
        ("GET", "/me/payment-methods"),
    ]:
        assert world.call(api_event(method, path)).status == 401
    # Bob's /me is his own, never Alice's
    assert me(world, api_event, "GET", "/me", sub="bob").body["summary"]["orderCount"] == 0
    # Staff asking for a customer nobody knows get a 404
    unknown = world.call(api_event("GET", "/admin/customers/nobody", groups=["support"]))
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "customer_not_found")
    # The product suggestions are public
    assert world.call(api_event("GET", "/products/p1/recommendations")).status == 200


def test_a_kept_address_is_readable_at_its_location_by_its_owner_only(world: World, api_event: Event) -> None:
    # Given an address Alice kept
    kept = me(world, api_event, "POST", "/me/addresses", body=ADDRESS)
    assert kept.status == 201, kept.body
    location = kept.headers["Location"]

    # Then its Location (behind the stage the request came through) answers it to her, as kept
    assert location == f"/dev/me/addresses/{kept.body['addressId']}"
    read = me(world, api_event, "GET", location.removeprefix("/dev"))
    assert (read.status, read.body) == (200, kept.body)
    # And to anyone else it does not exist, like an id that never did
    theirs = me(world, api_event, "GET", location.removeprefix("/dev"), sub="bob")
    assert (theirs.status, theirs.error_code) == (404, "address_not_found")
    assert me(world, api_event, "GET", "/me/addresses/a_nothing").status == 404
