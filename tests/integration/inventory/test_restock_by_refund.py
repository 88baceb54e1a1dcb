"""Restocking returned units (orders' refunds): a whole order comes back at most once; a return of some
units, named by its refund (`restock_id`), comes back once per refund, so two returns of one SKU both do."""

from common.contracts import OrderLine
from inventory import logic
from inventory.store import InventoryStore
from tests.fakes import FakePublisher

from .conftest import StockFactory, counters


def test_each_return_of_some_units_comes_back_once_and_two_returns_both_do(
    store: InventoryStore, given_stock: StockFactory, publish: FakePublisher
) -> None:
    # Given a SKU with 5 on sale
    given_stock("TEE-S", 5)
    one = [OrderLine(sku="TEE-S", quantity=1)]

    # When refund r_1 returns one unit (and its restock is retried), and refund r_2 returns another
    for restock_id in ("r_1", "r_1", "r_2"):
        logic.restock(store, "o_1", one, reason="came back", publish=publish, restock_id=restock_id)

    # Then two units came back, not one (the old per-order key) and not three
    assert counters(store, "TEE-S")[0] == 7


def test_a_whole_order_comes_back_once_however_often_it_is_asked(
    store: InventoryStore, given_stock: StockFactory, publish: FakePublisher
) -> None:
    given_stock("TEE-S", 5)
    for _ in range(2):
        logic.restock(store, "o_1", [OrderLine(sku="TEE-S", quantity=2)], reason="returned", publish=publish)
    assert counters(store, "TEE-S")[0] == 7
