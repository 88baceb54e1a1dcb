"""Orders when things go wrong, on a stack of their own: a payment window of 3 seconds, and a Stripe
that fails on demand (the local Stripe proxy's fault switch)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from local.stripe import clear_faults, inject_fault
from tests.e2e.localstack import LocalStack, start, stop, wait_ready
from tests.e2e.shop import place, stock, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
HOLD_SECONDS = 3


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir: Path = tmp_path_factory.mktemp("faulty-stack")
    process, log = start(state_dir, "--no-seed", "--param", f"HoldSeconds={HOLD_SECONDS}")
    try:
        yield LocalStack(wait_ready(process, log), state_dir, process, log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def people(faulty: LocalStack) -> dict[str, str]:
    return {"admin": faulty.token("admin@example.com", "admin"), "alice": faulty.token("alice@example.com")}


@pytest.fixture
def call(faulty: LocalStack) -> Http:
    session = requests.Session()

    def request(method: str, path: str, *, token: str | None = None, **kwargs: object) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, faulty.api + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    return request


def _stripe_fails(stack: LocalStack, path: str, times: int, status: int = 500) -> None:
    inject_fault(stack.state(), {"method": "POST", "path": path, "status": status, "times": times})


def test_an_unpaid_order_is_cancelled_when_the_window_closes(call: Http, people: dict[str, str]) -> None:
    # Given an order that nobody pays
    _, sku = stocked_sku(call, people["admin"], 2)
    order_id = place(call, people["alice"], sku, 1).json()["orderId"]
    wait_status(call, people["alice"], order_id, "AWAITING_PAYMENT")
    # Then, once the hold window has passed, it is cancelled and its stock is back on sale
    cancelled = wait_status(call, people["alice"], order_id, "CANCELLED", deadline=HOLD_SECONDS + 15)
    assert cancelled["reason"] == "payment not received in time"
    assert stock(call, people["admin"], sku) == (2, 0, 0)


def test_a_stripe_hiccup_is_retried(faulty: LocalStack, call: Http, people: dict[str, str]) -> None:
    # Given Stripe fails the next PaymentIntent creation once (the library retries too: fail a few)
    _, sku = stocked_sku(call, people["admin"], 1)
    _stripe_fails(faulty, "/v1/payment_intents", times=3)
    # When Alice orders, the workflow retries and the order still reaches the payment step
    order_id = place(call, people["alice"], sku, 1).json()["orderId"]
    awaiting = wait_status(call, people["alice"], order_id, "AWAITING_PAYMENT", "CANCELLED", deadline=30)
    assert awaiting["status"] == "AWAITING_PAYMENT"


def test_stripe_down_for_good_is_compensated(faulty: LocalStack, call: Http, people: dict[str, str]) -> None:
    # Given Stripe fails every PaymentIntent creation for a while
    _, sku = stocked_sku(call, people["admin"], 1)
    _stripe_fails(faulty, "/v1/payment_intents", times=1000)
    try:
        order_id = place(call, people["alice"], sku, 1).json()["orderId"]
        # Then, its retries spent, the order is cancelled with a reason and its stock released
        cancelled = wait_status(call, people["alice"], order_id, "CANCELLED", deadline=60)
    finally:
        clear_faults(faulty.state())
    assert cancelled["reason"] == "the payment could not be started"
    assert stock(call, people["admin"], sku) == (1, 0, 0)
