"""The adapters every payments handler shares, built from the settings on first use."""

from functools import partial

from common.events import publish
from common.workflow import TaskCallbacks
from payments.adapters import LambdaOrders
from payments.gateway import StripeGateway
from payments.ports import Publisher
from payments.secrets import stripe_secret_key
from payments.settings import reconcile_settings, settings
from payments.store import PaymentsStore


def store() -> PaymentsStore:
    return PaymentsStore(settings().payments_table)


def gateway() -> StripeGateway:
    config = settings()
    return StripeGateway(stripe_secret_key(), api_base=config.stripe_api_base, timeout=config.stripe_timeout_seconds)


BALANCE_TIMEOUT_SECONDS = 3.0
"""Per call of the fee read (three calls at most, no retries): the webhook has 20 s in all, and a fee
left unknown costs less than a payment acknowledged late."""


def balances() -> StripeGateway:
    """The gateway for reading Stripe's fees in the webhook: a short timeout and no retries, since the
    payment was taken already and a missing fee only shows as unknown (`payments.fees`)."""
    config = settings()
    return StripeGateway(
        stripe_secret_key(),
        api_base=config.stripe_api_base,
        timeout=min(config.stripe_timeout_seconds, BALANCE_TIMEOUT_SECONDS),
        retries=0,
    )


def callbacks() -> TaskCallbacks:
    return TaskCallbacks()


def publisher() -> Publisher:
    return partial(publish, domain="payments", bus_name=settings().event_bus_name)


def orders() -> LambdaOrders:
    """Only the reconciliation job may ask orders (it alone has `ORDER_STATES_FUNCTION`)."""
    function = reconcile_settings().order_states_function
    if not function:
        raise RuntimeError("ORDER_STATES_FUNCTION is not set for this function: it cannot reconcile")
    return LambdaOrders(function)
