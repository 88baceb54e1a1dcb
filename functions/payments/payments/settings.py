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


class ReconcileSettings(PaymentsSettings):
    """The reconciliation job's own: the orders function it asks, and its window and grace."""

    order_states_function: str = Field(
        default="", alias="ORDER_STATES_FUNCTION", description="Only the reconciliation job has it"
    )
    window_hours: int = Field(
        default=25, alias="RECONCILE_WINDOW_HOURS", ge=1, le=24 * 31, description="Longer than the schedule's period"
    )
    grace_minutes: int = Field(
        default=60,
        alias="RECONCILE_GRACE_MINUTES",
        ge=0,
        description="How long a payment may wait for its order to catch up before staff are told",
    )


def reconcile_settings() -> ReconcileSettings:
    loaded: ReconcileSettings = load_settings(ReconcileSettings)
    return loaded
