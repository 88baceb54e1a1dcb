"""The catalog functions' configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class CatalogSettings(Settings):
    """Environment of both catalog functions. The public function never publishes, so the bus name
    may be empty there; the admin function gets it from the template's globals."""

    catalog_table: str = Field(alias="CATALOG_TABLE", min_length=1)
    shop_currency: str = Field(default="EUR", alias="SHOP_CURRENCY", pattern=r"^[A-Z]{3}$")
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    inventory_table: str = Field(default="", alias="INVENTORY_TABLE", description="Read for availability")


def settings() -> CatalogSettings:
    """The settings, parsed once per process (tests clear `load_settings`' cache to change them)."""
    loaded: CatalogSettings = load_settings(CatalogSettings)
    return loaded
