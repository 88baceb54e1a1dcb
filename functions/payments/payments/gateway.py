"""Stripe, through the official library: the only module that imports `stripe`, lazily, so that code
paths which never talk to Stripe do not pay for its import on a cold start.

Every call has a timeout and Stripe's own idempotency key; library errors become our domain errors:
network trouble, rate limits and Stripe's 5xx are `PaymentProviderUnavailable` (the workflow retries),
other API errors are `PaymentRejected`."""

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from common.money import Money
from payments.errors import InvalidSignature, PaymentProviderUnavailable, PaymentRejected

if TYPE_CHECKING:
    import stripe


class StripeGateway:
    def __init__(self, api_key: str, *, api_base: str = "", timeout: float = 8.0) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._timeout = timeout

    @property
    def client(self) -> "stripe.StripeClient":
        return _client(self._api_key, self._api_base, self._timeout)

    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]:
        """A PaymentIntent for the order. With a Stripe Customer, the card is saved to it for next time
        (`setup_future_usage`); a provider that does not know that parameter (localstripe) gets the
        PaymentIntent without it, so the payment goes through and only the saving is lost."""
        params: Any = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "metadata": {"orderId": order_id, **({"customerId": customer_id} if customer_id else {})},
            "payment_method_types": ["card"],
        }
        if stripe_customer_id:
            params |= {"customer": stripe_customer_id, "setup_future_usage": "on_session"}
        options: Any = {"idempotency_key": f"order-{order_id}"}
        import stripe

        try:
            intent = self._call(lambda c: c.v1.payment_intents.create(params=params, options=options), raw=True)
        except stripe.InvalidRequestError as error:
            if "setup_future_usage" not in str(error):
                raise self._rejected(error) from error
            params.pop("setup_future_usage")
            intent = self._call(lambda c: c.v1.payment_intents.create(params=params, options=options))
        return _plain(intent)

    def create_customer(self, customer_id: str) -> str:
        """A Stripe Customer for one of our customers (idempotent at Stripe by our id); its id."""
        params: Any = {"metadata": {"customerId": customer_id}}
        options: Any = {"idempotency_key": f"customer-{customer_id}"}
        return str(_plain(self._call(lambda c: c.v1.customers.create(params=params, options=options)))["id"])

    def delete_customer(self, stripe_customer_id: str) -> None:
        self._call(lambda c: c.v1.customers.delete(stripe_customer_id))

    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]:
        """The cards saved to a Stripe Customer: Stripe's `card` objects (brand, last4, expiry...)."""
        params: Any = {"customer": stripe_customer_id, "type": "card", "limit": 20}
        listed = _plain(self._call(lambda c: c.v1.payment_methods.list(params=params)))
        return [dict(method.get("card") or {}) for method in listed.get("data", [])]

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda c: c.v1.payment_intents.retrieve(payment_intent_id)))

    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        """Cancel a PaymentIntent; None if Stripe refuses because it can no longer be cancelled."""
        import stripe

        try:
            return _plain(self._call(lambda c: c.v1.payment_intents.cancel(payment_intent_id), raw=True))
        except stripe.InvalidRequestError:
            return None

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": {"orderId": order_id}}
        if amount is not None:
            params["amount"] = amount
        refund = self._call(
            lambda c: c.v1.refunds.create(params=params, options={"idempotency_key": f"refund-{refund_key}"})  # type: ignore[arg-type]
        )
        return _plain(refund)

    def _call(self, call: Callable[["stripe.StripeClient"], Any], *, raw: bool = False) -> Any:
        import stripe

        try:
            return call(self.client)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise PaymentProviderUnavailable(f"Stripe is unreachable: {type(error).__name__}") from error
        except stripe.StripeError as error:
            if error.http_status is not None and error.http_status >= 500:
                raise PaymentProviderUnavailable(f"Stripe failed with {error.http_status}") from error
            if raw and isinstance(error, stripe.InvalidRequestError):
                raise
            raise self._rejected(error) from error

    @staticmethod
    def _rejected(error: Exception) -> PaymentRejected:
        message = getattr(error, "user_message", None) or getattr(error, "code", None) or "error"
        return PaymentRejected(f"Stripe refused the request: {message}")


def verify_webhook(payload: bytes, signature: str | None, secrets: Sequence[str], tolerance: int) -> dict[str, Any]:
    """The event, if `signature` is Stripe's over exactly `payload` with one of `secrets` (several during
    a rotation) and not older than `tolerance` seconds; `InvalidSignature` otherwise."""
    import stripe

    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    text = payload.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        try:
            event: dict[str, Any] = json.loads(text)
        except ValueError as error:
            raise InvalidSignature("the signed payload is not JSON") from error
        return event
    raise InvalidSignature("the Stripe signature does not match, or is too old")


@cache
def _client(api_key: str, api_base: str, timeout: float) -> "stripe.StripeClient":
    import stripe

    addresses: Any = {"api": api_base} if api_base else {}
    return stripe.StripeClient(
        api_key,
        base_addresses=addresses,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
