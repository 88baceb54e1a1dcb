"""The local Stripe.js pays a PaymentIntent the way Stripe.js does in a browser: with the publishable key
and the intent's client secret only, the card typed in the Element. localstripe's own stand-in only
completes a 3-D Secure step, so without the local stack's addition a shop order could not be paid from
the storefront."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.stripe import (
    CONFIRM_CARD_PATH,
    DEFAULT_BINARY,
    SECRET_KEY,
    STRIPE_JS_PATH,
    LocalStripe,
    NoPaymentIntent,
    StripeProxy,
    find_payment_intent,
)
from tests.e2e.localstack import free_port

PUBLISHABLE_KEY = "pk_test_storekeeper_local"
VISA = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}
DECLINED = VISA | {"number": "4000000000000002"}


@pytest.fixture(scope="module")
def stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe behind the local stack's proxy; yields the proxy's URL (what config.stripeJsUrl names)."""
    if not Path(DEFAULT_BINARY).exists():
        pytest.skip(f"localstripe is not installed at {DEFAULT_BINARY} (make install)")
    server = LocalStripe(free_port(), tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    proxy = StripeProxy(server.url, "http://127.0.0.1:9/webhook", "whsec_x", 0, faults_secret="s" * 32)
    proxy.start()
    try:
        yield proxy.url
    finally:
        proxy.stop()
        server.stop()


def _intent(stripe: str) -> dict[str, str]:
    """A PaymentIntent as payments makes one: an amount, no payment method yet."""
    response = requests.post(
        f"{stripe}/v1/payment_intents",
        data={"amount": 1990, "currency": "eur", "payment_method_types[]": "card"},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    response.raise_for_status()
    return dict(response.json())


def _status(stripe: str, intent_id: str) -> str:
    response = requests.get(f"{stripe}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""), timeout=10)
    return str(response.json()["status"])


def _confirm(stripe: str, body: dict[str, object]) -> requests.Response:
    # As Stripe.js posts it: a text body (a "simple" cross-origin request, no preflight)
    return requests.post(f"{stripe}{CONFIRM_CARD_PATH}", data=json.dumps(body), timeout=30)


def test_the_served_stripe_js_is_localstripes_with_confirm_card_payment_completed(stripe: str) -> None:
    script = requests.get(f"{stripe}{STRIPE_JS_PATH}", timeout=10)
    assert script.ok
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "LOCALSTRIPE_BASE_API" in script.text  # localstripe's, served as is
    assert CONFIRM_CARD_PATH in script.text  # with the card payment added


def test_a_card_typed_in_the_element_pays_the_intent_with_its_client_secret(stripe: str) -> None:
    intent = _intent(stripe)
    assert intent["status"] == "requires_payment_method"

    answer = _confirm(stripe, {"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"], "card": VISA})

    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json()["status"] == "succeeded"
    assert _status(stripe, intent["id"]) == "succeeded"


def test_a_declining_test_card_answers_a_card_error_and_the_intent_stays_unpaid(stripe: str) -> None:
    intent = _intent(stripe)

    answer = _confirm(stripe, {"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"], "card": DECLINED})

    assert answer.status_code == 402, answer.text
    assert answer.json()["error"]["type"] == "card_error"
    assert _status(stripe, intent["id"]) != "succeeded"


@pytest.mark.parametrize(
    ("key", "secret_suffix", "status"),
    [("pk_test_storekeeper_local", "_wrong", 401), ("sk_test_not_public", "", 401), ("", "", 401)],
)
def test_without_the_publishable_key_and_the_intents_own_secret_nothing_is_paid(
    stripe: str, key: str, secret_suffix: str, status: int
) -> None:
    intent = _intent(stripe)

    answer = _confirm(stripe, {"key": key, "client_secret": intent["client_secret"] + secret_suffix, "card": VISA})

    assert answer.status_code == status, answer.text
    assert _status(stripe, intent["id"]) == "requires_payment_method"


def test_an_order_is_payable_when_localstripe_holds_more_payment_intents_than_one_page(stripe: str) -> None:
    # Given more PaymentIntents than one list answers (100), the order's among the later ones
    for n in range(105):
        response = requests.post(
            f"{stripe}/v1/payment_intents",
            data={"amount": 100 + n, "currency": "eur", "metadata[orderId]": f"o_page_{n}"},
            auth=(SECRET_KEY, ""),
            timeout=10,
        )
        response.raise_for_status()

    # When `python -m local pay` looks for the first and the last order's intent
    first, last = find_payment_intent(stripe, "o_page_0"), find_payment_intent(stripe, "o_page_104")

    # Then both are found, whichever page they are on; an unknown order still is not
    assert (first["amount"], last["amount"]) == (100, 204)
    with pytest.raises(NoPaymentIntent):
        find_payment_intent(stripe, "o_page_none")
