"""Customers on the running stack: profile and addresses, the summary after a paid order, suggestions
from the seeded co-purchases, and support's view of a customer."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.localstack import LocalStack
from tests.e2e.shop import ADDRESS, pay, place, poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


@pytest.fixture
def newcomer(stack: LocalStack) -> tuple[str, str]:
    """A customer of their own (other tests order as alice and bob): (token, sub)."""
    import jwt

    token = stack.token(f"carol-{uuid.uuid4().hex[:8]}@example.com")
    return token, str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_profile_and_addresses(http: Http, newcomer: tuple[str, str]) -> None:
    token, sub = newcomer
    # Given a new customer: an empty profile with the email of the token
    empty = http("GET", "/me", token=token).json()
    assert empty["customerId"] == sub and empty["email"].startswith("carol-") and empty["summary"]["orderCount"] == 0
    # When they give their details and two addresses
    put = http("PUT", "/me", token=token, json={"name": "Carol", "marketingConsent": True})
    first = http("POST", "/me/addresses", token=token, json=ADDRESS)
    second = http("POST", "/me/addresses", token=token, json={**ADDRESS, "city": "Bremen"})
    # Then they are kept, the first address the default
    assert (put.status_code, first.status_code, second.status_code) == (200, 201, 201)
    assert http("GET", "/me", token=token).json()["name"] == "Carol"
    listed = http("GET", "/me/addresses", token=token).json()["items"]
    assert [(a["city"], a["default"]) for a in listed] == [("Hamburg", True), ("Bremen", False)]
    # And deleting the default makes the other one the default
    deleted = http("DELETE", f"/me/addresses/{first.json()['addressId']}", token=token)
    assert deleted.status_code == 204
    assert [(a["city"], a["default"]) for a in http("GET", "/me/addresses", token=token).json()["items"]] == [
        ("Bremen", True)
    ]


def test_a_paid_order_shows_in_the_summary_and_to_support(
    stack: LocalStack, http: Http, tokens: dict[str, str], newcomer: tuple[str, str]
) -> None:
    token, sub = newcomer
    # Given a paid order of 2 x 12.50
    _, sku = stocked_sku(http, tokens["admin"], 5, price=1250)
    order_id = place(http, token, sku, 2).json()["orderId"]
    wait_status(http, token, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, token, order_id, "PAID")
    # When the customer reads their profile
    me: dict[str, Any] = poll(lambda: http("GET", "/me", token=token).json(), lambda m: m["summary"]["orderCount"] == 1)
    # Then the summary shows the order, and the Stripe Customer made on the first payment
    assert me["summary"]["lifetimeValue"] == {"amount": 2500, "currency": "EUR"}
    assert me["summary"]["favouriteCategories"] == ["outdoor"]
    assert me["stripeCustomerId"].startswith("cus_")
    cards = http("GET", "/me/payment-methods", token=token)
    assert cards.status_code == 200 and isinstance(cards.json()["items"], list)  # localstripe saves no card
    # And support sees the order with its payment status; the customer cannot reach that view
    view = http("GET", f"/admin/customers/{sub}", token=tokens["support"])
    assert view.status_code == 200, view.text
    assert [(o["orderId"], o["paymentStatus"], o["fulfillmentStatus"]) for o in view.json()["orders"]] == [
        (order_id, "PAID", "UNFULFILLED")
    ]
    note = http("POST", f"/admin/customers/{sub}/notes", token=tokens["support"], json={"text": "VIP"})
    assert note.status_code == 201
    assert http("GET", f"/admin/customers/{sub}", token=token).status_code == 403
    assert http("GET", f"/admin/customers/{sub}", token=tokens["alice"]).status_code == 403


def test_product_recommendations_reflect_the_seeded_co_purchases(http: Http) -> None:
    # Given the demo shop's orders: the skillet was bought with the cutting board twice
    skillet = http("GET", "/products", params={"q": "skillet"}).json()["items"][0]["productId"]
    # When anyone asks what goes with the skillet (the seeded orders finish paying in the background)
    answer = poll(
        lambda: http("GET", f"/products/{skillet}/recommendations", params={"limit": 3}).json(),
        lambda body: len(body["items"]) == 3,
    )
    # Then the cutting board comes first, then the knife and the tea towels
    names = [item["name"] for item in answer["items"]]
    assert names[0] == "Olive Wood Cutting Board"
    assert set(names[1:]) == {"Chef's Knife", "Linen Tea Towels"}
    assert answer["items"][0]["score"] == 2


def test_my_recommendations_exclude_what_i_bought(http: Http, tokens: dict[str, str]) -> None:
    # Given alice's seeded orders (skillet, knife, board; pour-over and mugs; notebook and pen)
    answer = poll(
        lambda: http("GET", "/me/recommendations", token=tokens["alice"]).json(),
        lambda body: any(item["name"] == "Linen Tea Towels" for item in body["items"]),
    )
    # Then she is offered what others bought with her things, never what she has
    names = {item["name"] for item in answer["items"]}
    assert names.isdisjoint({"Cast Iron Skillet", "Chef's Knife", "Olive Wood Cutting Board", "Stoneware Mug"})


def test_erasure_removes_the_stripe_customer_and_the_login(
    stack: LocalStack, http: Http, tokens: dict[str, str], newcomer: tuple[str, str]
) -> None:
    # Given a newcomer who paid an order (so Stripe keeps a Customer with our id), shipped by staff
    token, sub = newcomer
    _, sku = stocked_sku(http, tokens["admin"], units=3)
    placed = place(http, token, sku)
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["orderId"]
    wait_status(http, token, order_id, "AWAITING_PAYMENT")
    pay(stack, order_id)
    wait_status(http, token, order_id, "PAID")
    shipment = {"carrier": "DHL", "trackingNumber": f"E2E{uuid.uuid4().hex[:12]}"}
    assert http("POST", f"/orders/{order_id}/shipments", token=tokens["admin"], json=shipment).status_code == 200
    wait_status(http, token, order_id, "SHIPPED")
    state = stack.state()
    stripe = state["stripeUrl"]
    found = requests.get(f"{stripe}/v1/customers", auth=("sk_test_storekeeper_local", ""), timeout=5).json()["data"]
    mine = [c["id"] for c in found if (c.get("metadata") or {}).get("customerId") == sub]
    assert len(mine) == 1

    # When they erase their data
    erased = http("DELETE", "/me", token=token)

    # Then it is done, their Stripe Customer is gone, and so is their login in the pool
    assert erased.status_code == 204, erased.text
    gone = requests.get(f"{stripe}/v1/customers/{mine[0]}", auth=("sk_test_storekeeper_local", ""), timeout=5)
    assert gone.status_code == 404 or gone.json().get("deleted") is True
    import boto3

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["awsEndpoint"],
        region_name=state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=state["userPoolId"], Username=sub)
    # And their export (the ID token lives on until it expires) shows nothing of them
    exported = http("GET", "/me/export", token=token).json()
    assert exported["profile"]["stripeCustomerId"] is None
    assert (exported["addresses"], exported["orders"]) == ([], [])


def test_support_finds_customers_by_the_first_letters_of_email_or_name(
    http: Http, tokens: dict[str, str], newcomer: tuple[str, str]
) -> None:
    def found(q: str) -> list[dict[str, Any]]:
        answer = http("GET", "/admin/customers", token=tokens["support"], params={"q": q})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    # The seeded alice, by the first letters of her email
    assert "alice@example.com" in [hit["email"] for hit in found("ali")]
    # A new customer, by their email and, once they save a profile, by a word of their name, any case
    token, sub = newcomer
    surname = f"Quill{uuid.uuid4().hex[:6]}"
    assert http("PUT", "/me", token=token, json={"name": f"Carol {surname}", "marketingConsent": False}).ok
    assert sub in [hit["customerId"] for hit in found(surname.upper())]
    assert sub not in [hit["customerId"] for hit in found(surname[2:])]
    # And after erasure, by nothing
    assert http("DELETE", "/me", token=token).status_code == 204
    assert sub not in [hit["customerId"] for hit in found(surname)]
