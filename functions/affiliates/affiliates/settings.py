"""The affiliates functions' configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class AffiliatesSettings(Settings):
    affiliates_table: str = Field(alias="AFFILIATES_TABLE", min_length=1)
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    shop_currency: str = Field(default="EUR", alias="SHOP_CURRENCY", pattern=r"^[A-Z]{3}$")
    user_pool_id: str = Field(default="", alias="USER_POOL_ID", description="Empty where no approval happens")
    shop_url: str = Field(
        default="https://shop.example.com", alias="AFFILIATES_SHOP_URL", pattern=r"^https?://[^\s?#]+$"
    )
    refund_window_days: int = Field(default=30, alias="AFFILIATES_REFUND_WINDOW_DAYS", ge=0, le=365)


def settings() -> AffiliatesSettings:
    loaded: AffiliatesSettings = load_settings(AffiliatesSettings)
    return loaded
