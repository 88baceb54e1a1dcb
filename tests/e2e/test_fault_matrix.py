"""The fault matrix (issue 10): every Stripe call on the order path (create, cancel, refund) x every fault
(500, 429, a timeout after Stripe acted, a dropped connection; once, and for longer than every retry) x
every journey it lies on (pay, decline, customer cancel before and after payment, staff refund, hold
expiry). After the fault clears and the retries, reconciliation, the sweeper and staff's re-drives have
run, nothing may be lost:

- money kept at Stripe = total - refunds of every PAID/SHIPPED/PARTIALLY_REFUNDED order, 0 for every
  CANCELLED/REJECTED/REFUNDED one (read from Stripe itself, over every PaymentIntent naming the order);
- stock `available + reserved + sold` = units received (the ledger's receipts: the delivery, and a return
  when a paid order is cancelled or refunded with restock), nothing left reserved;
- no order without a final status or a flag for staff.

`make test` runs a bounded subset (one fault per call and duration, rotating over journeys); `make chaos`
(`FAULT_MATRIX=full`) runs all of it. Scenarios run concurrently on one stack: each has its own SKU, its
own price (which is how a create fault finds its request) and faults that match only its own calls.
The stack runs with quick retries (the same paths, seconds instead of hours) and a 2-second Stripe timeout.
"""

import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from local.stripe import SECRET_KEY, clear_faults, faults, inject_fault
from tests.e2e.localstack import LocalStack, start, stop, wait_ready
from tests.e2e.shop import ADDRESS, poll, stocked_sku

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]
AUTH = (SECRET_KEY, "")
HOLD_SECONDS = 8
STRIPE_TIMEOUT = 2
FINAL = {"PAID", "SHIPPED", "CANCELLED", "REJECTED", "REFUNDED", "PARTIALLY_REFUNDED"}
KEEPS_MONEY = {"PAID", "SHIPPED", "PARTIALLY_REFUNDED"}

CALLS = ("create", "cancel", "refund")
FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "429": {"status": 429},
    "timeout": {"kind": "timeout", "delay": STRIPE_TIMEOUT + 1, "after": True},
    "refused": {"kind": "reset"},
}
DURATIONS = {"once": 1, "long": 100_000}
JOURNEYS_OF = {
    "create": ("pay", "decline", "cancel_before", "cancel_after", "refund", "hold_expiry"),
    "cancel": ("decline", "cancel_before", "hold_expiry"),
    "refund": ("cancel_after", "refund"),
}


@dataclass(frozen=True)
class Scenario:
    call: str
    fault: str
    duration: str
    journey: str
    price: int

    @property
    def name(self) -> str:
        return f"{self.call}/{self.fault}/{self.duration}/{self.journey}"


def scenarios(full: bool) -> list[Scenario]:
    prices = itertools.count(2001)
    every = [
        Scenario(call, fault, duration, journey, next(prices))
        for call in CALLS
        for journey in JOURNEYS_OF[call]
        for fault in FAULTS
        for duration in DURATIONS
    ]
    if full:
        return every
    # Bounded: each (call, fault, duration) once, its journey rotating, so every call, fault, duration and
    # journey is met in every run.
    chosen, turn = [], itertools.count()
    for call, fault, duration in itertools.product(CALLS, FAULTS, DURATIONS):
        journeys = JOURNEYS_OF[call]
        journey = journeys[next(turn) % len(journeys)]
        chosen.append(
            next(s for s in every if (s.call, s.fault, s.duration, s.journey) == (call, fault, duration, journey))
        )
    return chosen


@dataclass
class Run:
    scenario: Scenario
    sku: str = ""
    order_id: str = ""
    faults: list[str] = field(default_factory=list)
    refund_key: str = field(default_factory=lambda: f"matrix-{uuid.uuid4().hex}")
    notes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir: Path = tmp_path_factory.mktemp("fault-matrix")
    params = ["--param", f"HoldSeconds={HOLD_SECONDS}", "--param", f"StripeTimeoutSeconds={STRIPE_TIMEOUT}"]
    process, log = start(state_dir, "--no-seed", "--quick-retries", *params)
    try:
        yield LocalStack(wait_ready(process, log), state_dir, process, log)
    finally:
        stop(process)


class Shop:
    """The stack as the matrix drives it: staff and a customer, Stripe behind the fault switch."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.state = stack.state()
        self.stripe = str(self.state["stripeUrl"])
        self.admin = stack.token("admin@example.com", "admin")
        self.alice = stack.token("alice@example.com")
        self.session = requests.Session()

    def http(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.stack.api + path, headers=headers, timeout=60, **kwargs)

    def order(self, order_id: str) -> dict[str, Any]:
        return dict(self.http("GET", f"/orders/{order_id}", token=self.admin).json())

    def wait(self, order_id: str, done: Callable[[dict[str, Any]], bool], deadline: float = 120) -> dict[str, Any]:
        return dict(poll(lambda: self.order(order_id), done, deadline))

    def fail(self, run: Run, fault: dict[str, Any]) -> None:
        spec = FAULTS[run.scenario.fault] | {"times": DURATIONS[run.scenario.duration], "id": uuid.uuid4().hex}
        inject_fault(self.state, spec | fault)
        run.faults.append(spec["id"])

    def pay(self, intent_id: str, *, decline: bool = False) -> None:
        url = f"{self.stripe}/v1/payment_intents/{intent_id}"
        method = "pm_card_chargeCustomerFail" if decline else "pm_card_visa"
        requests.post(url, data={"payment_method": method}, auth=AUTH, timeout=10).raise_for_status()
        requests.post(f"{url}/confirm", auth=AUTH, timeout=10)

    def kept_by_order(self) -> dict[str, int]:
        """Money Stripe holds per order: received minus refunded, over every PaymentIntent naming it."""
        kept: dict[str, int] = {}
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "expand[]": "data.latest_charge"}
            if after:
                params["starting_after"] = after
            page = requests.get(f"{self.stripe}/v1/payment_intents", params=params, auth=AUTH, timeout=30).json()
            for intent in page["data"]:
                order_id = (intent.get("metadata") or {}).get("orderId")
                charge = intent.get("latest_charge")
                if order_id and intent.get("status") == "succeeded" and isinstance(charge, dict):
                    taken = int(charge.get("amount_captured") or charge.get("amount") or 0)
                    kept[order_id] = kept.get(order_id, 0) + taken - int(charge.get("amount_refunded") or 0)
            if not page.get("has_more") or not page["data"]:
                return kept
            after = page["data"][-1]["id"]


def journey(shop: Shop, run: Run) -> None:
    """One scenario, up to the point where the fault has had its effect."""
    s = run.scenario
    _, run.sku = stocked_sku(shop.http, shop.admin, 1, price=s.price)
    if s.call == "create":
        shop.fail(run, {"method": "POST", "path": "/v1/payment_intents", "match": f"amount={s.price}&"})
    body = {"items": [{"sku": run.sku, "quantity": 1}], "shippingAddress": ADDRESS}
    placed = shop.http("POST", "/orders", json=body, token=shop.alice, headers={"Idempotency-Key": run.refund_key})
    assert placed.status_code == 202, placed.text
    run.order_id = placed.json()["orderId"]
    order = shop.wait(run.order_id, lambda o: o["status"] != "PENDING" or o["attention"] is not None)
    if order["status"] != "AWAITING_PAYMENT":
        run.notes.append(f"never awaited payment: {order['status']}")
        return
    intent = order["payment"]["paymentIntentId"]
    if s.call == "cancel":
        shop.fail(run, {"method": "POST", "path": f"/v1/payment_intents/{intent}/cancel"})
    if s.call == "refund":
        shop.fail(run, {"method": "POST", "path": "/v1/refunds", "match": intent})
    if s.journey in ("pay", "cancel_after", "refund"):
        shop.pay(intent)
        shop.wait(run.order_id, lambda o: o["status"] != "AWAITING_PAYMENT" or o["attention"] is not None)
    if s.journey == "decline":
        shop.pay(intent, decline=True)
    if s.journey in ("cancel_before", "cancel_after"):
        cancelled = shop.http("POST", f"/orders/{run.order_id}/cancel", token=shop.alice, json={})
        run.notes.append(f"cancel answered {cancelled.status_code}")
    if s.journey == "refund":
        refunded = staff_refund(shop, run)
        run.notes.append(f"refund answered {refunded.status_code}")
    # Wait for the workflow to settle: a final status, or a flag for staff
    shop.wait(run.order_id, lambda o: settled(o, s.journey), deadline=180)


def settled(order: dict[str, Any], journey_name: str) -> bool:
    """Final (PAID is not, for a cancel after payment: the refund is on its way), or flagged for staff."""
    if order["attention"] is not None:
        return True
    return order["status"] in FINAL and not (journey_name == "cancel_after" and order["status"] == "PAID")


def staff_refund(shop: Shop, run: Run) -> requests.Response:
    body = {"reason": "matrix", "restock": True}
    headers = {"Idempotency-Key": run.refund_key}
    return shop.http("POST", f"/orders/{run.order_id}/refunds", json=body, token=shop.admin, headers=headers)


def after_the_fault(shop: Shop, run: Run) -> None:
    """The fault has cleared: staff retry what they asked for, and re-drive what was flagged."""
    order = shop.order(run.order_id)
    if run.scenario.journey == "refund" and order["status"] == "PAID":
        answer = staff_refund(shop, run)
        assert answer.status_code == 200, answer.text
    if order["attention"] is not None and order["status"] in ("PENDING", "AWAITING_PAYMENT", "PAID"):
        answer = shop.http("POST", f"/admin/orders/{run.order_id}/redrive", token=shop.admin)
        run.notes.append(f"re-driven: {answer.status_code}")


def test_no_money_or_stock_is_lost_under_stripe_faults(chaos: LocalStack) -> None:
    shop = Shop(chaos)
    runs = [Run(s) for s in scenarios(full=os.environ.get("FAULT_MATRIX") == "full")]
    since = time.time()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda run: journey(shop, run), runs))
    for run in runs:
        print(f"{run.scenario.name:38} {run.order_id} {'; '.join(run.notes)}")
    left = {f["id"]: f["times"] for f in faults(shop.state)}
    clear_faults(shop.state)
    # A scenario whose fault never fired tested nothing
    idle = [
        run.scenario.name
        for run in runs
        if not run.faults or all(left.get(i) == DURATIONS[run.scenario.duration] for i in run.faults)
    ]
    assert idle == [], f"faults that never fired: {idle}"
    # Staff see every order the faults left stuck on their queue, and nothing else of this run
    queue = shop.http("GET", "/admin/orders", token=shop.admin, params={"attention": "true", "limit": 100}).json()
    queued = {o["orderId"] for o in queue["items"]}
    stuck = {run.order_id for run in runs if shop.order(run.order_id)["attention"] is not None}
    assert stuck == queued & {run.order_id for run in runs}
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda run: after_the_fault(shop, run), runs))
    for name, payload in (("sweep-holds", None), ("reconcile-payments", {"since": since - 60})):
        args = ["trigger", name] + (["--input", f'{{"since": "{_iso(payload["since"])}"}}'] if payload else [])
        chaos.cli(*args)

    lost: list[str] = []
    for run in runs:
        order = shop.wait(
            run.order_id,
            lambda o: (o["status"] in FINAL and o["status"] != "PENDING") or o["attention"] is not None,
            deadline=180,
        )
        lost += check(shop, run, order)
    kept = poll(shop.kept_by_order, lambda k: not money_lost(shop, runs, k), deadline=120) if not lost else {}
    lost += money_lost(shop, runs, kept or shop.kept_by_order())

    flagged = sum(1 for run in runs if shop.order(run.order_id)["attention"] is not None)
    redriven = sum(1 for run in runs if any(n.startswith("re-driven") for n in run.notes))
    print(
        f"\nfault matrix: {len(runs)} scenarios run, {redriven} flagged for staff and re-driven, "
        f"{flagged} left flagged, {len(lost)} lost"
    )
    assert lost == [], "\n".join(lost)


def check(shop: Shop, run: Run, order: dict[str, Any]) -> list[str]:
    problems = []
    name = f"{run.scenario.name} {run.order_id} ({'; '.join(run.notes)})"
    if order["status"] not in FINAL and order["attention"] is None:
        problems.append(f"{name}: ended {order['status']} without a flag for staff")
    stock = shop.http("GET", f"/inventory/{run.sku}", token=shop.admin).json()
    # Received: every unit the ledger took in, the first delivery and a return (a restock) alike
    ledger = shop.http("GET", f"/inventory/{run.sku}/ledger", token=shop.admin, params={"limit": 100}).json()
    received = sum(int(entry["delta"]) for entry in ledger["items"])
    if stock["available"] + stock["reserved"] + stock["sold"] != received or (
        order["status"] in FINAL and stock["reserved"] != 0
    ):
        counts = f"{stock['available']}/{stock['reserved']}/{stock['sold']}"
        problems.append(f"{name}: stock {counts} (available/reserved/sold) for {received} received")
    return problems


def money_lost(shop: Shop, runs: list[Run], kept: dict[str, int]) -> list[str]:
    problems = []
    for run in runs:
        order = shop.order(run.order_id)
        expected = order["total"]["amount"] - order["refundedTotal"]["amount"] if order["status"] in KEEPS_MONEY else 0
        if kept.get(run.order_id, 0) != expected and order["attention"] is None:
            problems.append(
                f"{run.scenario.name} {run.order_id}: {order['status']}, Stripe keeps {kept.get(run.order_id, 0)}, "
                f"expected {expected} ({'; '.join(run.notes)})"
            )
    return problems


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
