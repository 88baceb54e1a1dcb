"""The catalog projection recommendations need (`PRODUCT#<productId> / META {name, status, category,
skus, version}`): name, status and SKUs from ProductChanged, the category from order lines (the
catalog's event carries none)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from common.store import iso, key
from customers.models import ProductInfo
from customers.store.base import META, CustomersTable


def product_of(values: Mapping[str, Any]) -> ProductInfo:
    return ProductInfo(
        product_id=values["productId"],
        name=values.get("name"),
        category=values.get("category"),
        active=values.get("status") == "ACTIVE",
        skus=tuple(values.get("skus") or ()),
    )


class ProductStore(CustomersTable):
    def put_product(self, product_id: str, *, name: str, status: str, skus: Sequence[str], version: int) -> bool:
        """Take a catalog version of a product unless a newer one was taken (events may come out of order)."""
        taken = self.update_if(
            f"PRODUCT#{product_id}",
            META,
            "SET productId = :pid, #name = :name, #status = :status, skus = :skus, version = :v",
            condition="attribute_not_exists(version) OR version < :v",
            names={"#name": "name", "#status": "status"},
            values={":pid": product_id, ":name": name, ":status": status, ":skus": list(skus), ":v": version},
        )
        return taken is not None

    def note_category(self, product_id: str, *, name: str, category: str, at: datetime) -> None:
        """Learn a product's category from an order line (the catalog's event carries none); the newest
        order wins, so a replayed old order does not undo a recategorisation."""
        self.update_if(
            f"PRODUCT#{product_id}",
            META,
            "SET productId = :pid, category = :c, categoryAt = :at, #name = if_not_exists(#name, :n)",
            condition="attribute_not_exists(categoryAt) OR categoryAt <= :at",
            names={"#name": "name"},
            values={":pid": product_id, ":c": category, ":at": iso(at), ":n": name},
        )

    def products(self, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
        keys = [key(f"PRODUCT#{pid}", META) for pid in dict.fromkeys(product_ids)]
        return {p.product_id: p for p in (product_of(v) for v in self.batch_read(keys))}
