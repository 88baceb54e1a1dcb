"""The reports functions' configuration, parsed once per process from the environment."""

from zoneinfo import ZoneInfo

from pydantic import Field

from common.config import Settings, load_settings


class ReportsSettings(Settings):
    reports_table: str = Field(alias="REPORTS_TABLE", min_length=1)
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    shop_timezone: str = Field(default="UTC", alias="SHOP_TIMEZONE", description="Days are counted in this zone")
    shop_currency: str = Field(default="EUR", alias="SHOP_CURRENCY", pattern=r"^[A-Z]{3}$")
    reports_bucket: str = Field(default="", alias="REPORTS_BUCKET")
    affiliates_table: str = Field(
        default="", alias="AFFILIATES_TABLE", description="Affiliates' table, read-only (statements); empty elsewhere"
    )
    report_recipients: str = Field(default="", alias="REPORT_RECIPIENTS", description="Comma-separated")
    report_sender: str = Field(default="", alias="REPORT_SENDER")
    report_run_function: str = Field(default="", alias="REPORT_RUN_FUNCTION")
    link_seconds: int = Field(
        default=300,
        alias="REPORT_LINK_SECONDS",
        ge=60,
        le=3600,
        description="How long a download link answered by the API works (a few minutes: it is made per request)",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.shop_timezone)

    @property
    def recipients(self) -> list[str]:
        return [r.strip() for r in self.report_recipients.split(",") if r.strip()]


def settings() -> ReportsSettings:
    loaded: ReportsSettings = load_settings(ReportsSettings)
    return loaded
