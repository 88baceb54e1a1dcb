"""Contention benchmark: a flash sale of one hot SKU — N concurrent buyers for N/2 units — through the real
ReserveStock logic and the local stack's AWS (moto in server mode), under either DynamoDB model and with the
SKU's stock in K shards. Every round checks that no unit was oversold.

    python bench/contention.py [--models serial aws] [--shards 1 4 16] [--buyers 200] [--units N] [--rounds 3]

Models (`local.dynamodb_model`): `serial` applies every DynamoDB request one at a time, so one hot item never
refuses a transaction; `aws` behaves as DynamoDB does under load — a transaction touching an item another
one holds is cancelled (`TransactionConflict`, retried with jitter by `common.dynamo.transact_write`) and an
item past 1,000 write units a second throttles. A buyer whose reservation still conflicts after the retries
is answered 503 (`ServiceUnavailable`); the 503 share is what a flash sale's buyers would see.

Columns: held units, holds per second (held / wall time of the burst), the 503 share, and from the AWS
model's counters (`/_storekeeper/dynamodb`) the requests cancelled or refused for a conflict and those
throttled; oversold must be 0. K > 1 needs `InventoryStore.set_shards`; without it only K = 1 runs.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common"), str(ROOT / "functions/inventory")]
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1"})
os.environ.setdefault("AWS_CLIENT_READ_TIMEOUT", "60")  # as the local stack sets it: moto under load is slow

from botocore.exceptions import ClientError  # noqa: E402

from bench.aws_model import app_client, moto_version, table  # noqa: E402
from common.contracts import OrderLine, ReserveStockInput  # noqa: E402
from common.errors import ServiceUnavailable  # noqa: E402
from inventory import logic  # noqa: E402
from inventory.errors import OutOfStock  # noqa: E402
from inventory.models import AdjustmentIn  # noqa: E402
from inventory.store import InventoryStore  # noqa: E402
from local.aws import DYNAMODB_MODELS, MotoServer  # noqa: E402

SKU = "HOT"
TRANSIENT = {"TransactionConflictException", "ThrottlingException", "ProvisionedThroughputExceededException"}


def run(server: MotoServer, buyers: int, units: int, shards: int, round_no: int) -> dict[str, float]:
    name = f"contention-{server.dynamodb_model}-{shards}-{buyers}-{round_no}-{time.monotonic_ns()}"
    table(server.endpoint, "InventoryTable", name)
    store = InventoryStore(name, client=app_client(server.endpoint, buyers))
    logic.ensure_stock(store, [SKU], threshold=0)
    if shards > 1:
        set_shards = getattr(store, "set_shards", None)  # sharded stock: absent from older stores
        if set_shards is None:
            raise SystemExit("InventoryStore has no set_shards: run with --shards 1")
        set_shards(SKU, shards)
    logic.adjust(
        store,
        SKU,
        AdjustmentIn(delta=units, reason="restock"),
        actor="bench",
        idempotency_key=None,
        publish=lambda _: None,
    )

    def buy(i: int) -> str:
        task = ReserveStockInput(order_id=f"o_{i}", lines=[OrderLine(sku=SKU, quantity=1)])
        try:
            logic.reserve(store, task, window=timedelta(minutes=15), publish=lambda _: None)
        except OutOfStock:
            return "out of stock"
        except ServiceUnavailable:
            return "503"
        except ClientError as error:  # the API answers these 503 too (`common.http`); the hold may exist
            if error.response["Error"]["Code"] not in TRANSIENT:
                raise
            return "503"
        return "held"

    server.dynamodb_counters(reset=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        outcomes = Counter(pool.map(buy, range(buyers)))
    elapsed = time.perf_counter() - started
    model = server.dynamodb_counters() or {}
    stock = store.get_stock(SKU)
    assert stock is not None
    held = stock.reserved  # units held in the table (a buyer answered 503 after its hold was made counts)
    oversold = max(0, held - units) + max(0, -stock.available) + max(0, outcomes["held"] - units)
    return {
        "held": held,
        "holds_per_s": held / elapsed,
        "unavailable_share": outcomes["503"] / buyers,
        "conflicts": model.get("conflicts", float("nan")),
        "throttled": model.get("throttled", float("nan")),
        "oversold": oversold,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        "--dynamodb-model",
        dest="models",
        nargs="+",
        choices=DYNAMODB_MODELS,
        default=[os.environ.get("LOCAL_DYNAMODB_MODEL", "serial")],
        help="the local AWS's DynamoDB model(s); several print one table (default: $LOCAL_DYNAMODB_MODEL or serial)",
    )
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 4, 16], metavar="K")
    parser.add_argument("--buyers", type=int, nargs="+", default=[200])
    parser.add_argument("--units", type=int, default=None, help="units on the shelf (default: half the buyers)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shards = args.shards
    if not hasattr(InventoryStore, "set_shards") and any(k > 1 for k in shards):
        print("(InventoryStore.set_shards does not exist yet: K = 1 only)\n")
        shards = [1]
    print(
        f"Flash sale of one SKU, local stack AWS (moto {moto_version()}), ReserveStock logic, "
        f"median of {args.rounds} rounds\n"
    )
    print("| model | K | buyers | units | held | holds/s | 503 share | conflicts | throttled | oversold |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in args.models:
        server = MotoServer(port=0, dynamodb_model=model)
        server.start()
        try:
            for k in shards:
                for buyers in args.buyers:
                    units = args.units if args.units is not None else buyers // 2
                    results = [run(server, buyers, units, k, r) for r in range(args.rounds)]
                    print(
                        f"| {model} | {k} | {buyers} | {units} | {int(_median(results, 'held'))} "
                        f"| {_median(results, 'holds_per_s'):.0f} | {_median(results, 'unavailable_share'):.1%} "
                        f"| {_count(results, 'conflicts')} | {_count(results, 'throttled')} "
                        f"| {int(sum(r['oversold'] for r in results))} |",
                        flush=True,
                    )
        finally:
            server.stop()


def _median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def _count(results: list[dict[str, float]], key: str) -> str:
    value = _median(results, key)
    return "–" if value != value else f"{value:.0f}"  # NaN: the serial model counts nothing


if __name__ == "__main__":
    main()
