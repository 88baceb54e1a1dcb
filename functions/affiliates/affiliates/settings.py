"""The affiliates functions' configuration, parsed once per process from the environment."""

from datetime import timedelta
from zoneinfo import ZoneInfo

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
    attribution_days: int = Field(
        default=30,
        alias="AFFILIATES_ATTRIBUTION_DAYS",
        ge=1,
        le=365,
        description="An order earns only within this many days of the visitor's first click with the code",
    )
    shop_timezone: str = Field(default="UTC", alias="SHOP_TIMEZONE", description="Stats count the shop's days")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.shop_timezone)

    @property
    def attribution_window(self) -> timedelta:
        return timedelta(days=self.attribution_days)


def settings() -> AffiliatesSettings:
    loaded: AffiliatesSettings = load_settings(AffiliatesSettings)
    return loaded
