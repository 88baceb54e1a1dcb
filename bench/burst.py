"""Burst benchmark: a flash sale of paid orders on the local stack, then what the burst left behind.

Many buyers at once, each order with the same coupon, paid through the local Stripe, under the AWS-like
DynamoDB model (`--dynamodb-model aws`, the default: hot items throttle and transactions conflict as on
AWS). Then, once the event queues have drained: the 503s checkout answered, the messages in every
dead-letter queue (both should be 0), and the report aggregates (the days' orders, units, gross and
discounts) and the best-seller counters against a recomputation from the paid orders themselves: every
order placed is read again once the queues drained, so a buyer who gave up waiting on a busy stack does
not hide an order that was paid.

The stack runs in this process, as in `bench/checkout.py`, through the same local-stack helpers.

    python bench/burst.py [--orders 1000] [--buyers 50] [--dynamodb-model aws|serial]
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import stack as local_stack  # noqa: E402
from local.aws import client  # noqa: E402
from local.cognito import token_for  # noqa: E402
from local.sqs import sqs_sources  # noqa: E402
from local.stripe import pay  # noqa: E402
from local.template import Resolver, Template  # noqa: E402

PRICE = 1000
CATEGORY = "home"
STEP_SECONDS = 120.0  # one order's step (placed → awaiting payment, paid → PAID) under a burst
QUIET_SECONDS = 3.0  # the queues must stay empty this long to count as drained
PLACE_ATTEMPTS = 3  # a client resends an unanswered order with its Idempotency-Key
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]  # waiting, in flight


@dataclass
class Outcome:
    """What the burst's checkouts got."""

    paid: list[dict[str, Any]] = field(default_factory=list)  # each paid order as its buyer reads it
    placed: list[tuple[str, str]] = field(default_factory=list)  # (order id, its buyer's token): every order placed
    answers: Counter[int] = field(default_factory=Counter)  # POST /orders status codes
    failures: Counter[str] = field(default_factory=Counter)  # orders placed that never became PAID, by reason
    unanswered: Counter[str] = field(default_factory=Counter)  # `POST /orders` attempts with no answer, by error


def until(check: Callable[[], Any], what: str, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"not within {within:.0f} s: {what}")


class Burst:
    def __init__(self, stack: local_stack.Stack) -> None:
        self.stack = stack
        state = stack.state
        self.api, self.aws = state["apiUrl"], state["awsEndpoint"]
        self.pool, self.client_id = state["userPoolId"], state["userPoolClientId"]
        self.admin = token_for(self.aws, self.pool, self.client_id, "admin@example.com", "admin")
        self.session = requests.Session()

    # ------------------------------------------------------------------ the shop
    def prepare(self, orders: int) -> tuple[str, str, str]:
        """A product with stock for every order and a coupon every order uses: (product id, SKU, code)."""
        headers = {"Authorization": self.admin}
        sku = f"BURST-{uuid.uuid4().hex[:8].upper()}"
        product = {
            "name": "Burst Lamp",
            "description": "-",
            "category": CATEGORY,
            "price": {"amount": PRICE, "currency": "EUR"},
            "variants": [{"sku": sku}],
        }
        created = self.session.post(f"{self.api}/products", json=product, headers=headers, timeout=30)
        created.raise_for_status()
        until(
            lambda: self.session.get(f"{self.api}/inventory/{sku}", headers=headers, timeout=10).ok,
            "the SKU's stock record",
            30,
        )
        adjust = {"delta": orders + 10, "reason": "restock"}
        self.session.post(
            f"{self.api}/inventory/{sku}/adjustments", json=adjust, headers=headers, timeout=30
        ).raise_for_status()
        code = f"BURST{uuid.uuid4().hex[:6].upper()}"
        coupon = {"code": code, "type": "percent", "value": 10, "maxRedemptions": orders * 10}
        self.session.post(f"{self.api}/coupons", json=coupon, headers=headers, timeout=30).raise_for_status()
        return str(created.json()["productId"]), sku, code

    def buyers(self, count: int) -> list[str]:
        return [token_for(self.aws, self.pool, self.client_id, f"burst-{n}@example.com") for n in range(count)]

    # ------------------------------------------------------------------ the burst
    def run(self, tokens: list[str], orders: int, sku: str, code: str) -> Outcome:
        outcome = Outcome()
        body = {
            "items": [{"sku": sku, "quantity": 1}],
            "shippingAddress": {"name": "A", "line1": "1 St", "city": "X", "postalCode": "1", "country": "DE"},
            "couponCode": code,
        }
        shares = [orders // len(tokens) + (1 if n < orders % len(tokens) else 0) for n in range(len(tokens))]
        with ThreadPoolExecutor(max_workers=len(tokens)) as buyers:
            running = [
                buyers.submit(self._buyer, token, share, body, outcome)
                for token, share in zip(tokens, shares, strict=True)
            ]
            for buyer in running:
                buyer.result()  # a buyer that crashed fails the benchmark, never silently
        return outcome

    def _buyer(self, token: str, share: int, body: dict[str, Any], outcome: Outcome) -> None:
        session = requests.Session()
        headers = {"Authorization": token}
        for _ in range(share):
            answer = self._place(session, {**headers, "Idempotency-Key": uuid.uuid4().hex}, body, outcome)
            if answer is None:
                continue
            outcome.answers[answer.status_code] += 1
            if not answer.ok:
                continue
            order_id = str(answer.json()["orderId"])
            url = f"{self.api}/orders/{order_id}"
            outcome.placed.append((order_id, token))
            try:
                self._status(session, url, headers, "AWAITING_PAYMENT")
                pay(self.stack.state["stripeUrl"], order_id)
                outcome.paid.append(self._status(session, url, headers, "PAID"))
            except Exception as error:  # counted and shown: a burst that loses orders must say so
                outcome.failures[type(error).__name__] += 1

    def _place(
        self, session: requests.Session, headers: dict[str, str], body: dict[str, Any], outcome: Outcome
    ) -> requests.Response | None:
        """`POST /orders` as a shop's client sends it: an answer that never came is sent again with the same
        Idempotency-Key (so it cannot order twice); None, counted as a failure, when no attempt was answered."""
        for _ in range(PLACE_ATTEMPTS):
            try:
                return session.post(f"{self.api}/orders", json=body, headers=headers, timeout=60)
            except requests.RequestException as error:
                outcome.unanswered[type(error).__name__] += 1
        return None

    @staticmethod
    def _status(session: requests.Session, url: str, headers: dict[str, str], status: str) -> dict[str, Any]:
        def read() -> dict[str, Any] | None:
            order: dict[str, Any] = session.get(url, headers=headers, timeout=30).json()
            if order.get("status") in ("CANCELLED", "PAYMENT_FAILED"):
                raise RuntimeError(f"order {order.get('orderId')} is {order['status']}")
            return order if order.get("status") == status else None

        found: dict[str, Any] = until(read, f"{url} {status}", STEP_SECONDS)
        return found

    # ------------------------------------------------------------------ what it left behind
    def settled(self, placed: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every order placed, read once more after the burst (one at a time, an unanswered read resent):
        the shop's own record of which were paid, including those whose buyer gave up waiting."""
        session = requests.Session()
        orders = []
        for order_id, token in placed:
            for attempt in range(PLACE_ATTEMPTS):
                try:
                    answer = session.get(f"{self.api}/orders/{order_id}", headers={"Authorization": token}, timeout=30)
                    answer.raise_for_status()
                    orders.append(answer.json())
                    break
                except requests.RequestException:
                    if attempt == PLACE_ATTEMPTS - 1:
                        raise
        return orders

    def drain(self, queues: list[str], within: float) -> float:
        """Seconds until every polled queue stayed empty (nothing visible, nothing in flight) for a while."""
        sqs = client("sqs", self.aws)
        urls = [sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in queues]
        started = time.monotonic()

        def empty() -> bool:
            counts = [sqs.get_queue_attributes(QueueUrl=u, AttributeNames=COUNTS)["Attributes"] for u in urls]
            return all(v == "0" for count in counts for v in count.values())

        quiet_since: float | None = None

        def drained() -> bool:
            nonlocal quiet_since
            if not empty():
                quiet_since = None
                return False
            quiet_since = quiet_since or time.monotonic()
            return time.monotonic() - quiet_since >= QUIET_SECONDS

        until(drained, "the event queues to drain", within)
        return time.monotonic() - started - QUIET_SECONDS

    def dead_letters(self) -> dict[str, int]:
        """Messages in every dead-letter queue (a queue another one redrives to, or named as one)."""
        sqs = client("sqs", self.aws)
        urls = sqs.list_queues().get("QueueUrls", [])
        targets = set()
        for url in urls:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
            if "RedrivePolicy" in attributes:
                targets.add(str(json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]).rsplit(":", 1)[-1])
        found = {}
        for url in urls:
            name = url.rsplit("/", 1)[-1]
            if name in targets or "-dlq-" in name:
                counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS).get("Attributes", {})
                found[name] = sum(int(v) for v in counts.values())
        return found

    def report_totals(self, first: date, last: date) -> dict[str, int]:
        answer = self.session.get(
            f"{self.api}/reports/sales",
            params={"from": first.isoformat(), "to": last.isoformat(), "granularity": "day"},
            headers={"Authorization": self.admin},
            timeout=30,
        )
        answer.raise_for_status()
        total = answer.json()["total"]
        return {
            "orders": int(total["orders"]),
            "units": int(total["units"]),
            "gross": int(total["gross"]["amount"]),
            "discounts": int(total["discounts"]["amount"]),
        }

    def best_sellers(self, product_id: str) -> dict[str, int]:
        """The product's best-seller counters (units sold), in its category and over all categories."""
        [table] = [name for name in self.stack.state["tables"] if "ustomers" in name]
        dynamodb = client("dynamodb", self.aws)
        found = {}
        for category in (CATEGORY, "*"):
            item = dynamodb.get_item(
                TableName=table,
                Key={"PK": {"S": f"BESTSELLER#{category}"}, "SK": {"S": f"PRODUCT#{product_id}"}},
                ConsistentRead=True,
            ).get("Item", {})
            found[category] = int(item.get("hits", {"N": "0"})["N"])
        return found

    def model_counters(self) -> dict[str, Any] | None:
        answer = self.session.get(f"{self.aws}/_storekeeper/dynamodb", timeout=10)
        return dict(answer.json()) if answer.ok else None


def recomputed(paid: list[dict[str, Any]]) -> dict[str, int]:
    """The report's totals from the paid orders, as the shop holds them once the burst settled."""
    return {
        "orders": len(paid),
        "units": sum(int(line["quantity"]) for order in paid for line in order["lines"]),
        "gross": sum(int(order["subtotal"]["amount"]) for order in paid),
        "discounts": sum(int(order["discount"]["amount"]) for order in paid),
    }


def polled_queues(stack: local_stack.Stack) -> list[str]:
    template = Template(stack.options.template)
    resolver = Resolver(template, template.parameter_defaults(stack.options.parameters))
    return [source.queue_name for source in sqs_sources(template, resolver)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--buyers", type=int, default=50, help="concurrent buyers (default 50)")
    parser.add_argument(
        "--dynamodb-model", choices=("serial", "aws"), default=os.environ.get("LOCAL_DYNAMODB_MODEL", "aws")
    )
    parser.add_argument("--workers", type=int, default=8, help="worker processes per function, at most")
    parser.add_argument("--drain-seconds", type=float, default=1200.0, help="how long the queues may take to drain")
    args = parser.parse_args()
    model = args.dynamodb_model
    if model == "aws" and importlib.util.find_spec("local.dynamodb_model") is None:
        print("(the AWS-like DynamoDB model is not there yet: running on the serial model)\n")
        model = "serial"
    os.environ["LOCAL_DYNAMODB_MODEL"] = model
    with tempfile.TemporaryDirectory() as state_dir:
        options = local_stack.Options.on_free_ports(
            Path(state_dir),
            seed=False,
            quiet=True,
            workers=args.workers,
        )
        stack = local_stack.Stack(options)
        stack.start()
        try:
            measure(stack, args.orders, args.buyers, model, args.drain_seconds)
        finally:
            stack.stop()


def measure(stack: local_stack.Stack, orders: int, buyers: int, model: str, drain_within: float) -> None:
    burst = Burst(stack)
    product_id, sku, code = burst.prepare(orders)
    tokens = burst.buyers(min(buyers, orders))
    first = datetime.now(UTC).date()
    started = time.monotonic()
    outcome = burst.run(tokens, orders, sku, code)
    seconds = time.monotonic() - started
    drained = burst.drain(polled_queues(stack), drain_within)
    last = datetime.now(UTC).date()
    dead = burst.dead_letters()
    settled = [order for order in burst.settled(outcome.placed) if order["status"] == "PAID"]
    reported, expected = burst.report_totals(first, last), recomputed(settled)
    sellers = burst.best_sellers(product_id)
    counters = burst.model_counters()

    print(f"Burst of {orders:,} paid orders with one coupon, {len(tokens)} buyers at once, DynamoDB model: {model}\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| orders paid, as their buyers saw it | {len(outcome.paid):,} of {orders:,} |")
    print(f"| orders PAID once the burst settled (read again) | {len(settled):,} of {len(outcome.placed):,} placed |")
    print(f"| checkout answered 503 | {outcome.answers.get(503, 0):,} |")
    others = {status: n for status, n in outcome.answers.items() if status >= 400 and status != 503}
    print(f"| checkout answered another error | {sum(others.values()):,} {dict(others) or ''} |")
    failures = sum(outcome.failures.values())
    print(f"| placed, PAID not seen by the buyer | {failures:,} {dict(outcome.failures) or ''} |")
    unanswered = sum(outcome.unanswered.values())
    print(f"| checkout attempts unanswered (resent) | {unanswered:,} {dict(outcome.unanswered) or ''} |")
    print(f"| burst (s) / paid orders per s | {seconds:.1f} / {len(outcome.paid) / seconds:.1f} |")
    print(f"| event queues drained after the burst (s) | {drained:.1f} |")
    print(f"| messages in dead-letter queues | {sum(dead.values()):,} |")
    for name, count in sorted(dead.items()):
        if count:
            print(f"| &nbsp;&nbsp;{name} | {count:,} |")
    if counters is not None:
        print(f"| DynamoDB throttled / transaction conflicts | {counters['throttled']:,} / {counters['conflicts']:,} |")
    print("\n| aggregate | reported | recomputed from the orders | match |")
    print("|---|---:|---:|---|")
    rows = [(f"report days' {name}", reported[name], expected[name]) for name in reported]
    rows += [(f"best sellers, {name}", sellers[name], expected["units"]) for name in (CATEGORY, "*")]
    for name, value, wanted in rows:
        print(f"| {name} | {value:,} | {wanted:,} | {'yes' if value == wanted else 'NO'} |")
    every = all(value == wanted for _, value, wanted in rows)
    print(f"\naggregates match the recomputation: {'yes' if every else 'NO'}")


if __name__ == "__main__":
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # metrics print to stdout, where the tables go
    warnings.filterwarnings("ignore")
    main()
    sys.stdout.flush()
