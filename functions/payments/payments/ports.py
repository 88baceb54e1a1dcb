"""What payments calls outside its table: Stripe, the workflow's callbacks, the event bus and the orders
domain. Logic sees these protocols; `payments.gateway` implements the Stripe ones over the official
library, `payments.adapters` the rest over AWS, and tests pass fakes.

Stripe's objects cross the gateway as Stripe's own plain JSON (`dict`): they are Stripe's vocabulary,
read where they are used; the payloads that cross to other domains are `common.contracts` models."""

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from common.contracts import OrderStatesOutput
from common.events import DomainEvent
from common.money import Money

Publisher = Callable[[list[DomainEvent]], None]


class Gateway(Protocol):
    """The PaymentIntents and refunds of the order steps."""

    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]: ...
    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]: ...
    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        """The cancelled PaymentIntent; None if Stripe refuses because it can no longer be cancelled."""
        ...

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]: ...


class CustomerAccounts(Protocol):
    """Stripe Customers and the cards saved to them (the same Stripe gateway, as a port of its own so
    that the order steps work without it)."""

    def create_customer(self, customer_id: str) -> str: ...
    def delete_customer(self, stripe_customer_id: str) -> None: ...
    def list_cards(self, stripe_customer_id: str) -> list[dict[str, Any]]: ...


class StripeLedger(Protocol):
    """The calls reconciliation makes: what Stripe holds, and the refunds it makes."""

    def list_intents(self, created_from: int, created_to: int) -> Iterable[dict[str, Any]]: ...
    def list_refunds(self, payment_intent_id: str) -> list[dict[str, Any]]: ...
    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]: ...
    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]: ...


class Balances(Protocol):
    """What Stripe kept of a payment: the charge behind a PaymentIntent, its balance transaction (amount,
    fee, net), and the refunds of a PaymentIntent (for theirs). The same Stripe gateway, as a port of its
    own so that the webhook's other paths and their fakes need none of it."""

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]: ...
    def retrieve_charge(self, charge_id: str) -> dict[str, Any]: ...
    def retrieve_balance_transaction(self, balance_transaction_id: str) -> dict[str, Any]: ...
    def list_refunds(self, payment_intent_id: str) -> list[dict[str, Any]]: ...


class Callbacks(Protocol):
    """The waiting AwaitPayment step: resumed, or failed with an error name its `Catch` matches."""

    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...
    def fail(self, token: str, error: str, cause: str) -> bool: ...


class Orders(Protocol):
    """How orders stand, asked of their owner (never its table)."""

    def states(self, order_ids: list[str]) -> OrderStatesOutput: ...
