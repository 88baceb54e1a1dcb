"""The notifications function's configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class NotificationsSettings(Settings):
    notifications_table: str = Field(alias="NOTIFICATIONS_TABLE", min_length=1)
    customers_table: str = Field(default="", alias="CUSTOMERS_TABLE", description="Read-only: erasure markers")
    shop_sender_email: str = Field(default="shop@example.com", alias="SHOP_SENDER_EMAIL")
    support_email: str = Field(default="support@example.com", alias="SUPPORT_EMAIL", description="Reply-To")
    staff_email: str = Field(default="", alias="STAFF_EMAIL", description="Comma-separated; empty sends no alerts")
    shop_url: str = Field(default="https://shop.example.com", alias="SHOP_URL")
    claim_seconds: int = Field(
        default=120,
        alias="NOTIFICATIONS_CLAIM_SECONDS",
        ge=30,
        le=3600,
        description="After this a claim that was never marked sent belongs to a dead invocation and may be "
        "taken over: longer than the function's timeout",
    )

    @property
    def staff(self) -> list[str]:
        return [address.strip() for address in self.staff_email.split(",") if address.strip()]


def settings() -> NotificationsSettings:
    loaded: NotificationsSettings = load_settings(NotificationsSettings)
    return loaded
