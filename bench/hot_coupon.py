"""Hot-coupon benchmark: a crowd of N buyers, released together, checking out with one coupon of U uses,
through the real checkout logic (`orders.logic.checkout`) and the local stack's AWS (moto in server mode)
under the AWS DynamoDB model. Every round checks that the coupon gave no more discounts than its uses.

    python bench/hot_coupon.py [--buyers 200] [--uses 1000 100] [--rounds 3]

The `aws` model (`local.dynamodb_model`) behaves as DynamoDB does under load: a transaction touching an
item another one holds is cancelled (`TransactionConflict`) and an item past 1,000 write units a second
throttles. A checkout with a coupon takes one use from one of the coupon's allowance shards in the same
transaction as the order (`OrdersStore.create`); a shard that refuses sends it to another with uses left.

Columns (medians over the rounds): buyers answered an order with the discount, answered 422
`coupon_exhausted` (the coupon is used up), answered 503 (`ServiceUnavailable`, or a transient AWS error
the API answers 503 too), and from the AWS model's counters (`/_storekeeper/dynamodb`) the requests
cancelled or refused for a conflict and the TransactWriteItems requests made. "cap held" says whether
every round gave at most U discounts, as the buyers were answered and as the coupon's shards count them.
The catalog, the workflow and the event bus are stand-ins of the orders ports (`orders.ports`).
"""

# ruff: noqa: ARG002 - the stand-ins keep the ports' signatures, whatever they use (as tests/ fakes do)

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common"), str(ROOT / "functions/orders")]
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"})
os.environ.setdefault("AWS_CLIENT_READ_TIMEOUT", "60")  # as the local stack sets it: moto under load is slow

from botocore.exceptions import ClientError  # noqa: E402

from bench.aws_model import app_client, moto_version, table  # noqa: E402
from common.auth import Caller  # noqa: E402
from common.contracts import (  # noqa: E402
    CancelPaymentInput,
    CancelPaymentResult,
    PricedSku,
    PriceSkusOutput,
    RefundInput,
    RefundResult,
    RestockInput,
    RestockResult,
    ShippingAddress,
)
from common.errors import ServiceUnavailable, ValidationFailed  # noqa: E402
from common.events import DomainEvent  # noqa: E402
from common.money import Money  # noqa: E402
from local.aws import MotoServer  # noqa: E402
from orders import logic  # noqa: E402
from orders.coupons import CouponIn  # noqa: E402
from orders.models import CheckoutIn  # noqa: E402
from orders.ports import Ports  # noqa: E402
from orders.store import OrdersStore  # noqa: E402

SKU = "TEE-RED-M"
TRANSIENT = {"TransactionConflictException", "ThrottlingException", "ProvisionedThroughputExceededException"}
ADDRESS = {"name": "Bench Buyer", "line1": "1 Bench Street", "city": "Berlin", "postalCode": "10115", "country": "DE"}


class Catalog:
    """The `Pricing` port: one SKU at 25.00."""

    def price(self, skus: list[str]) -> PriceSkusOutput:
        item = PricedSku(
            sku=SKU,
            product_id="p_bench",
            name="Bench tee",
            category="tees",
            price=Money(amount=2500, currency="EUR"),
            active=True,
        )
        return PriceSkusOutput(items=[item for s in skus if s == SKU], unknown=[s for s in skus if s != SKU])


class Workflow:
    """The `Workflow` port: counts the executions checkout starts (one per order)."""

    def __init__(self) -> None:
        self.started = 0
        self._lock = threading.Lock()

    def start(self, execution_name: str, execution_input: dict[str, Any]) -> None:
        with self._lock:
            self.started += 1

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        return False

    def fail(self, token: str, error: str, cause: str) -> bool:
        return False


class Elsewhere:
    """The payments, inventory and customers ports: checkout with an address given reaches none of them."""

    def cancel(self, task: CancelPaymentInput) -> CancelPaymentResult:
        raise AssertionError("checkout does not cancel payments")

    def refund(self, task: RefundInput) -> RefundResult:
        raise AssertionError("checkout does not refund")

    def restock(self, task: RestockInput) -> RestockResult:
        raise AssertionError("checkout does not restock")

    def default_address(self, customer_id: str) -> ShippingAddress | None:
        return None


def publish(events: list[DomainEvent]) -> None:
    """The `Publisher` port: the bus is not measured."""


def run(server: MotoServer, buyers: int, uses: int, round_no: int) -> dict[str, float]:
    name = f"hot-coupon-{uses}-{buyers}-{round_no}-{time.monotonic_ns()}"
    table(server.endpoint, "OrdersTable", name)
    elsewhere, workflow = Elsewhere(), Workflow()
    ports = Ports(
        store=OrdersStore(name, client=app_client(server.endpoint, buyers)),
        pricing=Catalog(),
        payments=elsewhere,
        inventory=elsewhere,
        customers=elsewhere,
        workflow=workflow,
        publish=publish,
    )
    code = f"HOT{round_no}"
    logic.create_coupon(
        ports, CouponIn.model_validate({"code": code, "type": "percent", "value": 10, "maxRedemptions": uses})
    )
    request = CheckoutIn.model_validate(
        {"items": [{"sku": SKU, "quantity": 1}], "shippingAddress": ADDRESS, "couponCode": code}
    )
    go = threading.Barrier(buyers, timeout=60)

    def buy(i: int) -> str:
        go.wait()  # every buyer at once
        try:
            order = logic.checkout(ports, Caller(sub=f"buyer-{i}"), request, f"key-{i}")
        except ValidationFailed as refused:
            if refused.code != "coupon_exhausted":
                raise
            return "used up"
        except ServiceUnavailable:
            return "503"
        except ClientError as error:  # the API answers these 503 too (`common.http`)
            if error.response["Error"]["Code"] not in TRANSIENT:
                raise
            return "503"
        assert order.discount.amount > 0, "an order with the coupon but no discount"
        return "discounted"

    server.dynamodb_counters(reset=True)
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        outcomes = Counter(pool.map(buy, range(buyers)))
    model = server.dynamodb_counters()
    assert model is not None  # the aws model counts
    coupon = ports.store.get_coupon(code)
    assert coupon is not None
    assert workflow.started == outcomes["discounted"], "an order answered without its workflow, or the reverse"
    return {
        "discounted": outcomes["discounted"],
        "used_up": outcomes["used up"],
        "unavailable": outcomes["503"],
        "conflicts": model["conflicts"],
        "transactions": model["requests"].get("TransactWriteItems", 0),
        "cap_held": outcomes["discounted"] <= uses and coupon.redemptions <= uses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, nargs="+", default=[200])
    parser.add_argument("--uses", type=int, nargs="+", default=[1000, 100], help="the coupon's maxRedemptions")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"A crowd at checkout with one coupon, local stack AWS (moto {moto_version()}, DynamoDB model aws), "
        f"checkout logic, median of {args.rounds} rounds\n"
    )
    print("| uses | buyers | discounted | used up | 503 | conflicts | TransactWriteItems |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    held = True
    server = MotoServer(port=0, dynamodb_model="aws")
    server.start()
    try:
        for uses in args.uses:
            for buyers in args.buyers:
                results = [run(server, buyers, uses, r) for r in range(args.rounds)]
                held = held and all(r["cap_held"] for r in results)
                print(
                    f"| {uses} | {buyers} | {_median(results, 'discounted')} | {_median(results, 'used_up')} "
                    f"| {_median(results, 'unavailable')} | {_median(results, 'conflicts')} "
                    f"| {_median(results, 'transactions')} |",
                    flush=True,
                )
    finally:
        server.stop()
    print(f"\ncap held: {'yes' if held else 'no'}")


def _median(results: list[dict[str, float]], key: str) -> str:
    return f"{statistics.median(r[key] for r in results):.0f}"


if __name__ == "__main__":
    main()
