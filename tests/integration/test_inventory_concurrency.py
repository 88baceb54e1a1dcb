"""Many buyers, few units: against moto in server mode (the local stack's, which serialises DynamoDB
requests as DynamoDB serialises writes to an item), exactly the units on the shelf are held."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from common.contracts import OrderLine, ReserveStockInput
from inventory import logic
from inventory.errors import OutOfStock
from inventory.models import AdjustmentIn
from inventory.store import InventoryStore
from local.aws import MotoServer, client
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SKU = "HOT-1"
UNITS = 10
BUYERS = 120


@pytest.fixture
def store(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> InventoryStore:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    props = dict(Template(ROOT / "template.yaml").of_type("AWS::DynamoDB::Table"))["InventoryTable"]
    dynamodb = client("dynamodb", server.endpoint)
    name = f"inventory-{threading.get_ident()}-{id(props)}"
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    return InventoryStore(name, client=dynamodb)


def test_a_hundred_buyers_for_ten_units(store: InventoryStore) -> None:
    # Given ten units of one SKU
    events: list[object] = []
    logic.ensure_stock(store, [SKU], threshold=2)
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
            stock = store.get_stock(SKU)
            if stock is None or min(stock.available, stock.reserved, stock.sold) < 0:
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
    # And the fall to the threshold was announced once, not once per sale
    assert [e.detail_type for e in events] == ["StockLow"]  # type: ignore[attr-defined]
