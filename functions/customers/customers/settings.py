"""The customers functions' configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class CustomersSettings(Settings):
    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=1)
    inventory_table: str = Field(default="", alias="INVENTORY_TABLE", description="Read-only: stock levels")
    shop_currency: str = Field(default="EUR", alias="SHOP_CURRENCY", pattern=r"^[A-Z]{3}$")
    list_payment_methods_function: str = Field(default="", alias="LIST_PAYMENT_METHODS_FUNCTION")
    anonymise_orders_function: str = Field(default="", alias="ANONYMISE_ORDERS_FUNCTION")
    forget_customer_function: str = Field(default="", alias="FORGET_CUSTOMER_FUNCTION")
    user_pool_id: str = Field(default="", alias="USER_POOL_ID", description="Erasure deletes the customer's login")
    issue_coupon_function: str = Field(default="", alias="ISSUE_COUPON_FUNCTION")
    win_back_days: int = Field(default=60, alias="WIN_BACK_DAYS", ge=1, le=3650)
    shop_sender_email: str = Field(default="shop@example.com", alias="SHOP_SENDER_EMAIL")
    shop_url: str = Field(default="https://shop.example.com", alias="SHOP_URL")


def settings() -> CustomersSettings:
    loaded: CustomersSettings = load_settings(CustomersSettings)
    return loaded
