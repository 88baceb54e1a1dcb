"""What the catalog stores, read behind the store's back: times in the one stored format."""

from datetime import UTC, datetime

from catalog import logic
from catalog.models import ProductIn
from catalog.store import CatalogStore
from common.store import iso
from tests.fakes import FakePublisher

from .conftest import CatalogWorld, product_body


def test_a_product_s_times_are_stored_in_the_one_format(world: CatalogWorld) -> None:
    # Given a product created on a whole second (where other formats drop the fraction)
    store = CatalogStore(world.table, client=world.dynamodb)
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    body = ProductIn.model_validate(product_body())
    product = logic.create_product(store, body, currency="EUR", publish=FakePublisher(), now=now)

    # When its stored item is read raw
    item = world.item(f"PRODUCT#{product.product_id}")

    # Then its times are written as `common.store.iso` writes every stored time, and read back as they were
    assert item is not None
    assert item["createdAt"]["S"] == item["updatedAt"]["S"] == iso(now) == "2030-01-01T12:00:00.000000Z"
    stored = store.get_product(product.product_id, consistent=True)
    assert stored is not None and (stored.created_at, stored.updated_at) == (now, now)
