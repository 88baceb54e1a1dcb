"""The inventory functions' configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class InventorySettings(Settings):
    inventory_table: str = Field(alias="INVENTORY_TABLE", min_length=1)
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    hold_seconds: int = Field(default=900, alias="HOLD_SECONDS", ge=1, le=24 * 3600)
    low_stock_threshold: int = Field(default=5, alias="LOW_STOCK_THRESHOLD", ge=0)
    order_state_machine_arn: str = Field(
        default="", alias="ORDER_STATE_MACHINE_ARN", description="Empty until the order workflow exists"
    )


def settings() -> InventorySettings:
    loaded: InventorySettings = load_settings(InventorySettings)
    return loaded
