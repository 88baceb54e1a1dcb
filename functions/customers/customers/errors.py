"""Customers' domain errors."""

from common.errors import Conflict, NotFound


class AddressNotFound(NotFound):
    code = "address_not_found"

    def __init__(self, address_id: str) -> None:
        super().__init__(f"no address {address_id}")


class CustomerNotFound(NotFound):
    code = "customer_not_found"

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer {customer_id}")


class ProductNotFound(NotFound):
    code = "product_not_found"

    def __init__(self, product_id: str) -> None:
        super().__init__(f"no product {product_id}")


class OrdersStillOpen(Conflict):
    code = "orders_still_open"

    def __init__(self, order_ids: list[str]) -> None:
        super().__init__(
            "some orders are still to ship and need their address; erase once they have shipped or been cancelled",
            details={"orderIds": order_ids},
        )


class TooManyAddresses(Conflict):
    code = "too_many_addresses"

    def __init__(self, limit: int) -> None:
        super().__init__(f"a customer may keep at most {limit} addresses; delete one first")
