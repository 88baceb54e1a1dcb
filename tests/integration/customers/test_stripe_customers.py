"""Stripe Customers and saved cards, in the payments domain: the first payment of a customer creates
their Stripe Customer once and names it on the PaymentIntent; `ListPaymentMethods` answers brand, last
4 and expiry. Logic runs on moto's PaymentsTable with a fake of our own gateway port; the real gateway
is checked against localstripe when it is installed."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from common.contracts import CreatePaymentIntentInput, SavedCards
from common.money import Money
from local.stripe import SECRET_KEY
from payments import logic, tasks
from payments.errors import PaymentProviderUnavailable
from payments.gateway import StripeGateway
from payments.store import PaymentsStore
from tests.tables import create_table
from tests.template import function_environment, load, set_environment


@dataclass
class FakeStripe:
    """Our `Gateway` and `CustomerAccounts` ports, as Stripe answers them."""

    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cards: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]:
        intent = {"id": f"pi_{order_id}", "client_secret": f"pi_{order_id}_secret", "customer": stripe_customer_id}
        self.intents[order_id] = intent
        return intent

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return next(i for i in self.intents.values() if i["id"] == payment_intent_id)

    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        return None

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
        raise AssertionError("not in these tests")

    def create_customer(self, customer_id: str) -> str:
        self.customers.append(f"cus_{len(self.customers) + 1}")
        return self.customers[-1]

    def delete_customer(self, stripe_customer_id: str) -> None:
        self.deleted.append(stripe_customer_id)

    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]:
        return self.cards.get(stripe_customer_id, [])


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsStore]:
    set_environment(monkeypatch)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        name = create_table(dynamodb, "PaymentsTable", load("test")[1])
        yield PaymentsStore(name, client=dynamodb)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def task(order_id: str, customer: str | None = "alice") -> CreatePaymentIntentInput:
    return CreatePaymentIntentInput(order_id=order_id, amount=eur(1000), customer_id=customer)


def test_the_first_payment_creates_the_stripe_customer_once(store: PaymentsStore) -> None:
    stripe = FakeStripe()
    # When Alice pays two orders (the first step retried)
    for order_id in ("o_1", "o_1", "o_2"):
        logic.create_intent(store, stripe, task(order_id), accounts=stripe)
    # Then one Stripe Customer was created, and both PaymentIntents name it
    assert stripe.customers == ["cus_1"]
    assert [i["customer"] for i in stripe.intents.values()] == ["cus_1", "cus_1"]
    assert store.stripe_customer("alice") == "cus_1"


def test_two_first_payments_racing_keep_one_customer(store: PaymentsStore) -> None:
    # Given another first payment of Alice records its Stripe Customer while ours is being created
    class Racing(FakeStripe):
        def create_customer(self, customer_id: str) -> str:
            store.keep_stripe_customer(customer_id, "cus_other")
            return super().create_customer(customer_id)

    stripe = Racing()
    # When ours finishes
    kept = logic.stripe_customer_of(store, stripe, "alice")
    # Then the first recorded is kept everywhere and ours is deleted at Stripe
    assert kept == "cus_other" == store.stripe_customer("alice")
    assert stripe.deleted == ["cus_1"]


def test_saved_cards_show_brand_last4_and_expiry_only(store: PaymentsStore) -> None:
    stripe = FakeStripe()
    # Before any payment, there is no Stripe Customer and no card
    assert logic.saved_cards(store, stripe, "alice") == SavedCards(stripe_customer_id=None, items=[])
    logic.create_intent(store, stripe, task("o_1"), accounts=stripe)
    stripe.cards["cus_1"] = [{"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "fingerprint": "x"}]
    answer = logic.saved_cards(store, stripe, "alice").model_dump(by_alias=True)
    assert answer == {
        "stripeCustomerId": "cus_1",
        "items": [{"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030}],
    }


def test_an_order_without_a_customer_or_accounts_works_as_before(store: PaymentsStore) -> None:
    stripe = FakeStripe()
    logic.create_intent(store, stripe, task("o_1", customer=None), accounts=stripe)
    logic.create_intent(store, stripe, task("o_2"))
    assert stripe.customers == []


# ---------------------------------------------------------------- the real library against localstripe


@pytest.fixture
def localstripe(localstripe_server: str) -> str:
    return localstripe_server


def test_the_stripe_gateway_keeps_customers_and_lists_their_cards(localstripe: str) -> None:
    # Given the real gateway (the official library) pointed at localstripe
    gateway = StripeGateway(SECRET_KEY, api_base=localstripe, timeout=5)
    # When a Stripe Customer is created and a PaymentIntent made for it
    customer = gateway.create_customer("alice-sub")
    intent = gateway.create_intent("o_stripe_1", eur(1500), "alice-sub", stripe_customer_id=customer)
    # Then the PaymentIntent names the customer (localstripe refuses `setup_future_usage`: made without)
    assert customer.startswith("cus_") and intent["customer"] == customer
    # And once a card is saved to the customer (what setup_future_usage does at Stripe), it is listed
    assert gateway.list_cards(customer) == []
    requests.post(
        f"{localstripe}/v1/payment_methods/pm_card_visa/attach",
        data={"customer": customer},
        auth=(SECRET_KEY, ""),
        timeout=5,
    ).raise_for_status()
    (card,) = gateway.list_cards(customer)
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == ("visa", "4242", 12, 2030)


# ---------------------------------------------------------------- erasure (ForgetCustomerFunction)


def test_forgetting_a_customer_deletes_the_stripe_customer_and_the_record_once(store: PaymentsStore) -> None:
    # Given Alice, whose first payment created her Stripe Customer, and Bob with his own
    stripe = FakeStripe()
    logic.create_intent(store, stripe, task("o_1"), accounts=stripe)
    logic.create_intent(store, stripe, task("o_2", customer="bob"), accounts=stripe)

    # When Alice is forgotten, twice (a retry)
    first = logic.forget_customer(store, stripe, "alice")
    again = logic.forget_customer(store, stripe, "alice")

    # Then her Stripe Customer was deleted once and payments' record of it is gone; Bob's stays
    assert (first.stripe_customer_deleted, again.stripe_customer_deleted) == (True, False)
    assert stripe.deleted == ["cus_1"]
    assert store.stripe_customer("alice") is None
    assert store.stripe_customer("bob") == "cus_2"
    assert logic.saved_cards(store, stripe, "alice") == SavedCards(stripe_customer_id=None, items=[])


def test_a_failed_stripe_delete_keeps_the_record_for_the_retry(store: PaymentsStore) -> None:
    # Given Stripe failing to delete Alice's Stripe Customer
    class Down(FakeStripe):
        def delete_customer(self, stripe_customer_id: str) -> None:
            raise PaymentProviderUnavailable("Stripe is unreachable (fake)")

    stripe = Down()
    logic.create_intent(store, stripe, task("o_1"), accounts=stripe)
    with pytest.raises(PaymentProviderUnavailable):
        logic.forget_customer(store, stripe, "alice")

    # Then the record that finds her Stripe Customer is still there for the retry
    assert store.stripe_customer("alice") == "cus_1"


def test_the_forget_customer_handler_runs_with_the_template_environment(
    store: PaymentsStore, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    # Given exactly the variables the template gives ForgetCustomerFunction, and no Stripe Customer to delete
    variables = function_environment(load("test")[1], "ForgetCustomerFunction")
    set_environment(monkeypatch, variables)
    assert variables["PAYMENTS_TABLE"] == store.table
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(Name=variables["STRIPE_SECRET_KEY_PARAMETER"], Value=SECRET_KEY, Type="SecureString")

    # When customers invokes it
    answer = tasks.forget_customer_handler({"customerId": "nobody"}, lambda_context)

    # Then it answers in the contract's shape
    assert answer == {"customerId": "nobody", "stripeCustomerDeleted": False}


def test_the_stripe_gateway_deletes_a_customer_and_a_deleted_one_is_done(localstripe: str) -> None:
    # Given a Stripe Customer at localstripe
    gateway = StripeGateway(SECRET_KEY, api_base=localstripe, timeout=5)
    customer = gateway.create_customer("erase-me-sub")

    # When it is deleted, and deleted again (a retry after a lost answer)
    gateway.delete_customer(customer)
    gateway.delete_customer(customer)

    # Then Stripe no longer has it
    found = requests.get(f"{localstripe}/v1/customers/{customer}", auth=(SECRET_KEY, ""), timeout=5)
    assert found.status_code == 404 or found.json().get("deleted") is True
