"""Inventory's stock read model (`common.stock`, `common.contracts.StockLevel`): what inventory's store
writes is what the catalog's product page and customers' recommendations read, through the one reader,
against the template's table in moto. Change a key or an attribute on one side only, and these fail."""

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber

import common.dynamo
from common.contracts import StockLevel
from common.stock import StockReader, shard_key, stock_key
from common.store import iso
from inventory import logic
from inventory.models import AdjustmentIn
from inventory.store import InventoryStore
from tests.fakes import FakePublisher

from .conftest import T0, TABLE, WINDOW, StockFactory, order


@pytest.fixture
def reader(dynamodb: Any) -> StockReader:
    return StockReader(TABLE, client=dynamodb)


def test_the_reader_reads_what_the_store_writes(
    store: InventoryStore, reader: StockReader, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given SKUs written by inventory's own store: plenty, low (one just set low by threshold), none left
    given_stock("RM-PLENTY", 50, threshold=5)
    given_stock("RM-LOW", 8, threshold=2)
    given_stock("RM-GONE", 2, threshold=1)
    store.set_threshold("RM-LOW", 10)

    # When an order holds the last units of one of them, and a reader asks for all three and one never stocked
    logic.reserve(store, order("o-rm-1", ("RM-GONE", 2)), window=WINDOW, publish=publish, now=T0)
    levels = reader.levels(["RM-PLENTY", "RM-LOW", "RM-GONE", "RM-NEVER"])

    # Then the reader sees exactly the store's counters and thresholds; the unknown SKU is simply absent
    assert levels == {
        "RM-PLENTY": StockLevel(sku="RM-PLENTY", available=50, threshold=5),
        "RM-LOW": StockLevel(sku="RM-LOW", available=8, threshold=10),
        "RM-GONE": StockLevel(sku="RM-GONE", available=0, threshold=1),
    }
    for sku, level in levels.items():
        stock = store.get_stock(sku)
        assert level is not None and stock is not None
        assert (level.available, level.threshold, level.is_low) == (stock.available, stock.threshold, stock.is_low)
    assert reader.in_stock(["RM-PLENTY", "RM-LOW", "RM-GONE", "RM-NEVER"]) == {"RM-PLENTY", "RM-LOW"}


def test_a_new_sku_is_read_as_out_of_stock(store: InventoryStore, reader: StockReader) -> None:
    # Given a SKU inventory has just created (from ProductChanged), at zero
    assert logic.ensure_stock(store, ["RM-NEW"], threshold=3) == ["RM-NEW"]

    # When a reader reads it, then it is known and not in stock
    assert reader.levels(["RM-NEW"]) == {"RM-NEW": StockLevel(sku="RM-NEW", available=0, threshold=3)}
    assert reader.in_stock(["RM-NEW"]) == set()


def test_the_reader_reads_more_skus_than_one_batch_holds(store: InventoryStore, reader: StockReader) -> None:
    # Given 130 SKUs in stock (a batch read takes 100 keys)
    skus = [f"RM-MANY-{i:03d}" for i in range(130)]
    logic.ensure_stock(store, skus, threshold=0)
    for sku in skus[::2]:
        store.client.update_item(
            TableName=store.table,
            Key=stock_key(sku),
            UpdateExpression="SET available = :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    # When a reader asks for all of them (one twice), then every one is read
    assert len(reader.levels([*skus, skus[0]])) == 130
    assert reader.in_stock(skus) == set(skus[::2])


def test_a_sku_left_unprocessed_is_unknown_not_sold_out(
    given_stock: StockFactory, reader: StockReader, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a SKU in stock, and DynamoDB leaving its key unprocessed on every retry (throttled)
    given_stock("RM-BUSY", 5)
    pauses: list[float] = []
    monkeypatch.setattr(common.dynamo, "time", SimpleNamespace(sleep=pauses.append))
    busy = {TABLE: {"Keys": [stock_key("RM-BUSY")]}}
    with Stubber(dynamodb) as stub:
        for _ in range(10):
            stub.add_response("batch_get_item", {"Responses": {}, "UnprocessedKeys": busy})

        # When a reader asks for its level, and for which SKUs are in stock
        levels = reader.levels(["RM-BUSY"])
        selling = reader.in_stock(["RM-BUSY"])

    # Then its level is unknown (a page does not call it sold out), a recommendation skips it, and
    # the retries backed off between attempts
    assert levels == {"RM-BUSY": None}
    assert selling == set()
    assert pauses and all(p >= 0 for p in pauses)


def test_a_reader_without_a_table_reads_nothing() -> None:
    # Given a function whose template gives it no inventory table: it answers no levels, without a call
    assert StockReader("").levels(["ANY-1"]) == {}


def test_a_hold_s_expiry_is_answered_in_the_one_stored_time_format(
    store: InventoryStore, publish: FakePublisher, given_stock: StockFactory
) -> None:
    # Given stock on the shelf
    given_stock("RM-TIME", 3)

    # When the workflow's ReserveStock holds some of it
    result = logic.reserve(store, order("o-rm-time", ("RM-TIME", 1)), window=WINDOW, publish=publish, now=T0)

    # Then the hold's expiry it answers is written like every stored and published time (UTC, `Z`)
    assert result.expires_at == iso(T0 + WINDOW)
    assert result.expires_at.endswith("Z")


def test_the_reader_sums_a_hot_sku_s_shards_and_an_unread_shard_makes_the_level_unknown(
    store: InventoryStore,
    reader: StockReader,
    given_stock: StockFactory,
    dynamodb: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a SKU whose 9 units are spread over 3 items, next to one in a single item
    given_stock("RM-HOT", 0, threshold=2)
    store.set_shards("RM-HOT", 3)
    logic.adjust(
        store,
        "RM-HOT",
        AdjustmentIn(delta=9, reason="restock"),
        actor="t",
        idempotency_key=None,
        publish=FakePublisher(),
    )
    given_stock("RM-COLD", 4, threshold=2)

    # When a reader reads both, then the hot one is its total (the stock item alone holds 3)
    assert reader.levels(["RM-HOT", "RM-COLD"]) == {
        "RM-HOT": StockLevel(sku="RM-HOT", available=9, threshold=2),
        "RM-COLD": StockLevel(sku="RM-COLD", available=4, threshold=2),
    }

    # When DynamoDB leaves one of its shards unprocessed on every retry
    monkeypatch.setattr(common.dynamo, "time", SimpleNamespace(sleep=lambda _seconds: None))
    record = {"sku": {"S": "RM-HOT"}, "available": {"N": "3"}, "threshold": {"N": "2"}, "shardItems": {"N": "3"}}
    with Stubber(dynamodb) as stub:
        stub.add_response("batch_get_item", {"Responses": {TABLE: [record]}, "UnprocessedKeys": {}})
        for _ in range(5):
            stub.add_response(
                "batch_get_item",
                {"Responses": {}, "UnprocessedKeys": {TABLE: {"Keys": [shard_key("RM-HOT", 2)]}}},
            )
        levels = reader.levels(["RM-HOT"])

    # Then its level is unknown, never a partial sum a page would show
    assert levels == {"RM-HOT": None}
