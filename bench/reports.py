"""Reports benchmark: histories of 1,000, 10,000 and 100,000 orders applied through the aggregate
consumer's own code (`reports.logic.aggregates.increments`), then a daily and a 30-day report timed and
their items read counted. The store here keeps the table's items in memory (same keys, same reads),
because moto copies a whole table on each transaction and would time itself, not the design.

    python bench/reports.py [--orders 1000 10000 100000]
"""

import argparse
import random
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers/common"), str(ROOT / "functions/reports")]

from common.contracts import OrderedLine, OrderSnapshot  # noqa: E402
from common.events import Received  # noqa: E402
from common.money import Money  # noqa: E402
from reports.logic import queries  # noqa: E402
from reports.logic.aggregates import increments  # noqa: E402
from reports.models import Increment, ReportGranularity  # noqa: E402
from reports.store import ReportsStore  # noqa: E402

DAYS = 90
PRODUCTS = 200
CUSTOMERS = 5000
UTC_ZONE = ZoneInfo("UTC")


class MemoryStore(ReportsStore):
    """The reports table's items in a dict, read the way DynamoDB would read them."""

    def __init__(self) -> None:
        super().__init__("memory")
        self.items: dict[str, dict[str, dict[str, Any]]] = {}
        self.applied: set[str] = set()

    def apply(self, event_id: str, found: Sequence[Increment]) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        for inc in found:
            item = self.items.setdefault(inc.pk, {}).setdefault(inc.sk, {"PK": inc.pk, "SK": inc.sk})
            for name, delta in inc.add.items():
                item[name] = item.get(name, 0) + delta
            for name, value in inc.set_if_absent.items():
                item.setdefault(name, value)
        return True

    def totals(self, partitions: Iterable[str]) -> dict[str, dict[str, Any]]:
        found = {pk: self.items[pk]["TOTAL"] for pk in partitions if "TOTAL" in self.items.get(pk, {})}
        self.items_read += len(found)
        return found

    def rows(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        found = [v for k, v in sorted(self.items.get(partition, {}).items()) if k.startswith(prefix)]
        self.items_read += len(found)
        return found


def history(store: MemoryStore, orders: int, rng: random.Random) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    for i in range(orders):
        lines = []
        for product in rng.sample(range(PRODUCTS), rng.randint(1, 3)):
            price, quantity = 500 + product * 10, rng.randint(1, 2)
            lines.append(
                OrderedLine(
                    sku=f"SKU-{product}",
                    product_id=f"p_{product}",
                    name=f"Product {product}",
                    category="c",
                    quantity=quantity,
                    unit_price=Money(amount=price, currency="EUR"),
                    line_total=Money(amount=price * quantity, currency="EUR"),
                )
            )
        subtotal = sum(line.line_total.amount for line in lines)
        snapshot = OrderSnapshot(
            order_id=f"o_{i}",
            customer_id=f"c_{rng.randrange(CUSTOMERS)}",
            status="PAID",
            lines=lines,
            subtotal=Money(amount=subtotal, currency="EUR"),
            discount=Money(amount=0, currency="EUR"),
            total=Money(amount=subtotal, currency="EUR"),
            refunded_total=Money(amount=0, currency="EUR"),
            created_at=start.isoformat(),
        )
        at = start + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))
        event = Received("OrderPaid", f"OrderPaid#{snapshot.order_id}", at, snapshot)
        store.apply(event.event_id, increments(event, UTC_ZONE))


def measure(store: MemoryStore, first: date, last: date) -> dict[str, tuple[float, int]]:
    results = {}
    for name, report in (
        ("sales", lambda: queries.sales(store, first, last, ReportGranularity.DAY, "EUR")),
        ("top products", lambda: queries.top_products(store, first, last, 10, "EUR")),
        ("best customers", lambda: queries.best_customers(store, first, last, 10, "EUR")),
    ):
        store.items_read = 0
        started = time.perf_counter()
        report()
        results[name] = (time.perf_counter() - started, store.items_read)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    print(f"Reports over {DAYS} days of history ({PRODUCTS} products, {CUSTOMERS} customers): time and items read\n")
    print("| orders | report | daily (ms) | daily items | 30 days (ms) | 30-day items |")
    print("|---:|---|---:|---:|---:|---:|")
    for orders in args.orders:
        store = MemoryStore()
        history(store, orders, random.Random(orders))
        day = date(2030, 2, 15)
        daily = measure(store, day, day)
        month = measure(store, day - timedelta(days=29), day)
        for name in daily:
            print(
                f"| {orders:,} | {name} | {daily[name][0] * 1000:.2f} | {daily[name][1]:,} "
                f"| {month[name][0] * 1000:.2f} | {month[name][1]:,} |"
            )


if __name__ == "__main__":
    main()
