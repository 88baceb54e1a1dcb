"""Stripe's keys, read at run time from SSM Parameter Store (SecureString), cached for five minutes, so
a rotated key is picked up without a deploy. Never logged, never stored elsewhere."""

from aws_lambda_powertools.utilities import parameters

from payments.settings import settings

CACHE_SECONDS = 300


def stripe_secret_key() -> str:
    name = settings().stripe_secret_key_parameter
    if not name:
        raise RuntimeError("STRIPE_SECRET_KEY_PARAMETER is not set for this function: it may not call Stripe")
    return str(parameters.get_parameter(name, decrypt=True, max_age=CACHE_SECONDS))


def webhook_secrets() -> list[str]:
    """The webhook signing secrets: one, or during a rotation the new and the old, comma-separated."""
    raw = parameters.get_parameter(settings().stripe_webhook_secret_parameter, decrypt=True, max_age=CACHE_SECONDS)
    return [part.strip() for part in str(raw).split(",") if part.strip()]
