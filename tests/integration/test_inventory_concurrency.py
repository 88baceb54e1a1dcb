"""Many buyers, few units: against moto in server mode (the local stack's, which serialises DynamoDB
requests as DynamoDB serialises writes to an item), exactly the units on the shelf are held — with the
SKU's stock in one item, and spread over 4 shards (issue 16), where no shard may ever go negative."""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from common.contracts import OrderLine, ReserveStockInput
from inventory import logic
from inventory.errors import OutOfStock
from inventory.models import AdjustmentIn
from inventory.store import InventoryStore
from local.aws import MotoServer, client
from tests.tables import create_table
from tests.template import set_environment

SKU = "HOT-1"
UNITS = 10
BUYERS = 120


@pytest.fixture
def store(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> InventoryStore:
    set_environment(monkeypatch)
    dynamodb = client("dynamodb", server.endpoint)
    name = create_table(dynamodb, "InventoryTable", name=f"inventory-{threading.get_ident()}-{uuid.uuid4().hex[:8]}")
    return InventoryStore(name, client=dynamodb)


def shard_counters(store: InventoryStore) -> list[tuple[int, int, int]]:
    """(available, reserved, sold) of each of the SKU's stock items, read consistently."""
    layout = store.read_layouts([SKU])[SKU]
    return [tuple(part) for part in layout.counters]  # type: ignore[misc]


@pytest.mark.parametrize("shards", [1, 4])
def test_a_hundred_buyers_for_ten_units(store: InventoryStore, shards: int) -> None:
    # Given ten units of one SKU, in `shards` items
    events: list[object] = []
    logic.ensure_stock(store, [SKU], threshold=2)
    if shards > 1:
        store.set_shards(SKU, shards)
    logic.adjust(
        store, SKU, AdjustmentIn(delta=UNITS, reason="restock"), actor="t", idempotency_key=None, publish=events.extend
    )
    seen_negative = threading.Event()

    def buy(i: int) -> str:
        task = ReserveStockInput(order_id=f"o_{i}", lines=[OrderLine(sku=SKU, quantity=1)])
        try:
            logic.reserve(store, task, window=timedelta(minutes=15), publish=events.extend)
        except OutOfStock:
            return "rejected"
        finally:
            if min(min(part) for part in shard_counters(store)) < 0:
                seen_negative.set()
        return "held"

    # When many buyers try at once
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        outcomes = Counter(pool.map(buy, range(BUYERS)))

    # Then exactly the units on the shelf are held, no counter ever went negative, and the shelf adds up
    assert outcomes == {"held": UNITS, "rejected": BUYERS - UNITS}
    assert not seen_negative.is_set()
    stock = store.get_stock(SKU)
    assert stock is not None
    assert (stock.available, stock.reserved, stock.sold) == (0, UNITS, 0)
    assert stock.shards == shards
    assert len(shard_counters(store)) == shards
    assert all(part[0] == 0 for part in shard_counters(store))
    # And the fall to the threshold was announced once, not once per sale
    assert [e.detail_type for e in events] == ["StockLow"]  # type: ignore[attr-defined]
