"""The payments functions' configuration. Keys are not here: only the names of the SSM parameters
that hold them, read at run time (`payments.secrets`)."""

from pydantic import Field

from common.config import Settings, load_settings


class PaymentsSettings(Settings):
    payments_table: str = Field(alias="PAYMENTS_TABLE", min_length=1)
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    stripe_secret_key_parameter: str = Field(
        default="", alias="STRIPE_SECRET_KEY_PARAMETER", description="Only the functions that call Stripe have it"
    )
    stripe_webhook_secret_parameter: str = Field(default="", alias="STRIPE_WEBHOOK_SECRET_PARAMETER")
    stripe_api_base: str = Field(default="", alias="STRIPE_API_BASE", description="Empty: Stripe itself")
    stripe_timeout_seconds: float = Field(default=8.0, alias="STRIPE_TIMEOUT_SECONDS", gt=0, le=25)
    webhook_tolerance_seconds: int = Field(default=300, alias="STRIPE_WEBHOOK_TOLERANCE_SECONDS", ge=1)


def settings() -> PaymentsSettings:
    loaded: PaymentsSettings = load_settings(PaymentsSettings)
    return loaded
