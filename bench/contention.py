"""Contention benchmark: N concurrent buyers on one hot SKU, through the real ReserveStock logic and
the local stack's AWS (moto in server mode, DynamoDB requests serialised as DynamoDB serialises writes
to an item). Half the buyers can be served; every round checks that no unit was oversold.

    python bench/contention.py [--buyers 10 50 200] [--rounds 3]

Prints holds per second, the share of transactions cancelled by a conflict (and retried), and the
oversell count, which must be 0.
"""

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common"), str(ROOT / "functions/inventory")]
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"})

from common.contracts import OrderLine, ReserveStockInput  # noqa: E402
from inventory import logic  # noqa: E402
from inventory.errors import OutOfStock  # noqa: E402
from inventory.models import AdjustmentIn  # noqa: E402
from inventory.store import InventoryStore  # noqa: E402
from local.aws import MotoServer, client  # noqa: E402
from local.template import Template  # noqa: E402


def table(endpoint: str, name: str) -> Any:
    props = dict(Template(ROOT / "template.yaml").of_type("AWS::DynamoDB::Table"))["InventoryTable"]
    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def run(endpoint: str, buyers: int, round_no: int) -> dict[str, float]:
    dynamodb = table(endpoint, f"contention-{buyers}-{round_no}")
    calls: Counter[str] = Counter()

    def count(parsed: dict[str, Any], **_: Any) -> None:
        calls["transactions"] += 1
        reasons = [r.get("Code") for r in parsed.get("CancellationReasons", [])]
        if "TransactionConflict" in reasons:
            calls["conflicts"] += 1

    dynamodb.meta.events.register("after-call.dynamodb.TransactWriteItems", count)
    store = InventoryStore(f"contention-{buyers}-{round_no}", client=dynamodb)
    units = buyers // 2
    logic.ensure_stock(store, ["HOT"], threshold=0)
    logic.adjust(
        store,
        "HOT",
        AdjustmentIn(delta=units, reason="restock"),
        actor="bench",
        idempotency_key=None,
        publish=lambda _: None,
    )

    def buy(i: int) -> bool:
        task = ReserveStockInput(order_id=f"o_{i}", lines=[OrderLine(sku="HOT", quantity=1)])
        try:
            logic.reserve(store, task, window=timedelta(minutes=15), publish=lambda _: None)
        except OutOfStock:
            return False
        return True

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        held = sum(pool.map(buy, range(buyers)))
    elapsed = time.perf_counter() - started
    stock = store.get_stock("HOT")
    assert stock is not None
    oversold = max(0, held - units) + max(0, -stock.available)
    return {
        "holds_per_s": held / elapsed,
        "attempts_per_s": buyers / elapsed,
        "conflict_share": calls["conflicts"] / max(1, calls["transactions"]),
        "oversold": oversold,
        "held": held,
        "units": units,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = MotoServer(port=0)
    server.start()
    try:
        print(f"Contention on one SKU, local stack AWS (moto {_moto_version()}), median of {args.rounds} rounds\n")
        print("| buyers | units | held | holds/s | attempts/s | conflicts retried | oversold |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for buyers in args.buyers:
            results = [run(server.endpoint, buyers, r) for r in range(args.rounds)]
            print(
                f"| {buyers} | {buyers // 2} | {int(statistics.median(r['held'] for r in results))} "
                f"| {statistics.median(r['holds_per_s'] for r in results):.0f} "
                f"| {statistics.median(r['attempts_per_s'] for r in results):.0f} "
                f"| {statistics.median(r['conflict_share'] for r in results):.1%} "
                f"| {int(sum(r['oversold'] for r in results))} |"
            )
    finally:
        server.stop()


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


if __name__ == "__main__":
    main()
