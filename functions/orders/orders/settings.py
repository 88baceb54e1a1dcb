"""The orders functions' configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class OrdersSettings(Settings):
    orders_table: str = Field(alias="ORDERS_TABLE", min_length=1)
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    shop_currency: str = Field(default="EUR", alias="SHOP_CURRENCY", pattern=r"^[A-Z]{3}$")
    hold_seconds: int = Field(default=900, alias="HOLD_SECONDS", ge=1, le=24 * 3600)
    shipment_days: int = Field(default=30, alias="SHIPMENT_DAYS", ge=1, le=365)
    order_state_machine_arn: str = Field(default="", alias="ORDER_STATE_MACHINE_ARN")
    price_skus_function: str = Field(default="", alias="PRICE_SKUS_FUNCTION")
    cancel_payment_function: str = Field(default="", alias="CANCEL_PAYMENT_FUNCTION")
    refund_payment_function: str = Field(default="", alias="REFUND_PAYMENT_FUNCTION")
    restock_function: str = Field(default="", alias="RESTOCK_FUNCTION")
    default_address_function: str = Field(default="", alias="DEFAULT_ADDRESS_FUNCTION")
    inventory_table: str = Field(default="", alias="INVENTORY_TABLE", description="Read-only: stock levels (quotes)")
    prices_include_tax: bool = Field(
        default=True, alias="PRICES_INCLUDE_TAX", description="Catalog prices include tax (template PricesIncludeTax)"
    )


def settings() -> OrdersSettings:
    loaded: OrdersSettings = load_settings(OrdersSettings)
    return loaded
