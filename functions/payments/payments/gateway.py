"""The Stripe adapter of `payments.ports` (`Gateway`, `CustomerAccounts`, `StripeLedger`, `Balances`), through the
official library: the only module that imports `stripe`, lazily, so that code paths which never talk to
Stripe do not pay for its import on a cold start. Kept apart from `payments.adapters` for that reason.

Every call has a timeout and Stripe's own idempotency key; library errors become our domain errors:
network trouble, rate limits and Stripe's 5xx are `PaymentProviderUnavailable` (the workflow retries),
other API errors are `PaymentRejected`."""

import json
import time
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from common.money import Money
from payments.errors import InvalidSignature, MalformedEvent, PaymentProviderUnavailable, PaymentRejected

if TYPE_CHECKING:
    import stripe

LIST_PAGE = 100
"""Stripe's largest page."""


class StripeGateway:
    def __init__(self, api_key: str, *, api_base: str = "", timeout: float = 8.0, retries: int = 2) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._timeout = timeout
        self._retries = retries

    @property
    def client(self) -> "stripe.StripeClient":
        return _client(self._api_key, self._api_base, self._timeout, self._retries)

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
        """Delete a Stripe Customer (and the cards saved to it). One Stripe no longer knows is deleted
        already: a retry after a lost answer, or a second erasure."""
        import stripe

        try:
            self._call(lambda c: c.v1.customers.delete(stripe_customer_id), raw=True)
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise self._rejected(error) from error

    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]:
        """The cards saved to a Stripe Customer: Stripe's `card` objects (brand, last4, expiry...)."""
        params: Any = {"customer": stripe_customer_id, "type": "card", "limit": 20}
        listed = _plain(self._call(lambda c: c.v1.payment_methods.list(params=params)))
        return [dict(method.get("card") or {}) for method in listed.get("data", [])]

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda c: c.v1.payment_intents.retrieve(payment_intent_id)))

    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda c: c.v1.charges.retrieve(charge_id)))

    def retrieve_balance_transaction(self, balance_transaction_id: str) -> dict[str, Any]:
        """A balance transaction (`amount`, `fee`, `net`, in minor units): what a charge or refund did to
        the shop's Stripe balance. Locally the Stripe proxy supplies them with a fixed fee."""
        return _plain(self._call(lambda c: c.v1.balance_transactions.retrieve(balance_transaction_id)))

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

    def list_intents(self, created_from: int, created_to: int) -> Iterator[dict[str, Any]]:
        """Every PaymentIntent created between the two Unix times (both included), a page of 100 at a
        time (`starting_after`), each with its latest charge expanded: Stripe keeps the refunded amount
        there. A provider that cannot filter on `created` (localstripe answers 400 "Unexpected created")
        is listed whole and filtered here; the filter is applied here in any case."""
        import stripe

        params: dict[str, Any] = {
            "limit": LIST_PAGE,
            "created": {"gte": created_from, "lte": created_to},
            "expand": ["data.latest_charge"],
        }
        try:
            page = _plain(self._call(lambda c: c.v1.payment_intents.list(params=params), raw=True))  # type: ignore[arg-type]
        except stripe.InvalidRequestError as error:
            if "created" not in str(error):
                raise self._rejected(error) from error
            params.pop("created")
            page = _plain(self._call(lambda c: c.v1.payment_intents.list(params=params)))  # type: ignore[arg-type]
        yield from (i for i in page.get("data", []) if created_from <= int(i.get("created", 0)) <= created_to)
        while page.get("has_more") and page.get("data"):
            params["starting_after"] = page["data"][-1]["id"]
            page = _plain(self._call(lambda c: c.v1.payment_intents.list(params=params)))  # type: ignore[arg-type]
            yield from (i for i in page.get("data", []) if created_from <= int(i.get("created", 0)) <= created_to)

    def list_refunds(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """Every refund of a PaymentIntent, whatever its status, a page of 100 at a time."""
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "limit": LIST_PAGE}
        refunds: list[dict[str, Any]] = []
        while True:
            page = _plain(self._call(lambda c: c.v1.refunds.list(params=params)))  # type: ignore[arg-type]
            refunds += page.get("data", [])
            if not page.get("has_more") or not page.get("data"):
                return refunds
            params["starting_after"] = page["data"][-1]["id"]

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


def verify_webhook(payload: bytes, signature: str | None, secrets: Sequence[str], tolerance: int) -> Any:
    """The event's JSON, if `signature` is Stripe's over exactly `payload` with one of `secrets` (several
    during a rotation) and signed within `tolerance` seconds of now, either way: Stripe's library refuses
    only old timestamps, and one from the future would stay replayable for that much longer.
    `InvalidSignature` otherwise; `MalformedEvent` for a signed payload that is not JSON (too deep, or a
    number too long to read, included). The shape is the caller's to check."""
    import stripe

    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    text = payload.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        if _signed_at(signature) > time.time() + tolerance:
            raise InvalidSignature("the Stripe signature's timestamp is in the future")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise MalformedEvent("the signed payload is not JSON we can read", code="malformed_json") from error
    raise InvalidSignature("the Stripe signature does not match, or is too old")


def _signed_at(signature: str) -> int:
    """The `t=` of a Stripe-Signature header the library has accepted (it read the same first one)."""
    return int(next(part.split("=", 1)[1] for part in signature.split(",") if part.split("=", 1)[0] == "t"))


@cache
def _client(api_key: str, api_base: str, timeout: float, retries: int = 2) -> "stripe.StripeClient":
    import stripe

    addresses: Any = {"api": api_base} if api_base else {}
    return stripe.StripeClient(
        api_key,
        base_addresses=addresses,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
