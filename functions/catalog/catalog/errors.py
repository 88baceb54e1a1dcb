"""Catalog's domain errors; `common.http` maps their bases to statuses."""

from collections.abc import Sequence

from common.errors import Conflict, PreconditionFailed


class SkuTaken(Conflict):
    """Another product already owns one of the SKUs (SKUs are never reused, see `catalog.store`)."""

    def __init__(self, skus: Sequence[str]) -> None:
        names = sorted(skus)
        super().__init__(f"SKU already used by another product: {', '.join(names)}", details={"skus": names})
        self.code = "sku_taken"


class ConcurrentUpdate(Conflict):
    """The product changed between our read and our write; the caller's use case may retry."""

    code = "concurrent_update"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} was changed by someone else; retry")


class ProductArchived(Conflict):
    """An archived product is read-only: its SKUs live on in orders and stock."""

    code = "product_archived"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id} is archived and cannot be changed")


class VersionMismatch(PreconditionFailed):
    """`If-Match` names a version the product no longer has: another admin changed it first. Never
    re-applied: the caller asked to replace *that* version, so it reads the product again and decides."""

    def __init__(self, product_id: str, current: int | None = None) -> None:
        now = f" (it is at version {current} now)" if current is not None else ""
        super().__init__(f"product {product_id} changed since the version in If-Match{now}; read it again")
