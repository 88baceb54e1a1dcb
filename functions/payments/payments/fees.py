"""What Stripe kept: the fee and net of a payment and of a refund, read from Stripe's balance transactions
(PaymentIntent → `latest_charge` → `charge.balance_transaction` → `GET /v1/balance_transactions/{id}`),
for `PaymentSucceeded` and `RefundSucceeded`; a dispute's fee from the balance transactions its webhook
lists, for `PaymentDisputed` and `DisputeClosed`.

Reading them is best effort: the payment stands whether or not Stripe answers this too, so a read that
fails (Stripe down or slow, past the gateway's timeout; an answer we cannot read; a balance settled in
another currency than the payment's) gives `None` fields and the reason, never an error. The event is
published without the fee, and the payments report shows that payment's fee as unknown
(`feeUnknown`) rather than as 0 — see docs/decisions.md."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.money import Money
from payments.errors import PaymentProviderUnavailable, PaymentRejected
from payments.ports import Balances
from payments.stripe_events import DisputeObject

REFUND_COUNTS = frozenset({"succeeded", "pending", "requires_action"})
"""Refund statuses that count towards a charge's refunded total (Stripe's `amount_refunded`)."""


@dataclass(frozen=True)
class ChargeBalance:
    """The balance transaction of a payment's charge; ids and money None where they could not be read."""

    charge_id: str | None = None
    balance_transaction_id: str | None = None
    fee: Money | None = None
    net: Money | None = None
    unknown: str | None = None
    """Why the fee could not be read; None when it was."""


@dataclass(frozen=True)
class RefundBalance:
    """One refund and its balance transaction: `fee` is what Stripe gave back of its fee (usually 0),
    `net` what the refund took off the shop's balance (`amount - fee`)."""

    refund_id: str | None = None
    amount: Money | None = None
    fee: Money | None = None
    net: Money | None = None
    unknown: str | None = None


@dataclass(frozen=True)
class DisputeFees:
    """What a dispute cost in Stripe's fees: `fee` withdrawn with the disputed amount, `returned` given
    back of it when the dispute was won; None where Stripe did not say."""

    fee: Money | None = None
    returned: Money | None = None


def dispute_fees(dispute: DisputeObject, currency: str) -> DisputeFees:
    """From the balance transactions a dispute lists (Stripe sends them in the dispute; no call): the
    withdrawals' fees (`amount` < 0, `fee` >= 0) and what reinstatements gave back (`amount` > 0, `fee`
    <= 0). Nothing listed is nothing moved: an inquiry withdraws nothing and costs no fee. None when the
    payload has no list, lists another currency than the payment's (a balance settled elsewhere), or a
    fee whose sign does not fit its transaction."""
    listed = dispute.balance_transactions
    if listed is None or any(t.currency.upper() != currency for t in listed):
        return DisputeFees()
    withdrawn = [t.fee for t in listed if t.amount < 0]
    reinstated = [t.fee for t in listed if t.amount > 0]
    if any(fee < 0 for fee in withdrawn) or any(fee > 0 for fee in reinstated):
        return DisputeFees()
    return DisputeFees(
        fee=Money(amount=sum(withdrawn), currency=currency), returned=Money(amount=-sum(reinstated), currency=currency)
    )


class _Unreadable(Exception):
    """Stripe answered something we cannot read as a charge, refund or balance transaction."""


def charge_balance(balances: Callable[[], Balances] | None, payment_intent_id: str, currency: str) -> ChargeBalance:
    """The fee and net of the PaymentIntent's charge, in the payment's `currency`."""
    if balances is None:
        return ChargeBalance(unknown="no Stripe gateway to read the fee with")
    charge_id: str | None = None
    stripe = _built(balances)
    if isinstance(stripe, str):
        return ChargeBalance(unknown=stripe)
    try:
        charge = _object(stripe.retrieve_intent(payment_intent_id).get("latest_charge"), stripe.retrieve_charge)
        charge_id = _id(charge)
        transaction = _object(charge.get("balance_transaction"), stripe.retrieve_balance_transaction)
        amount, fee, net = _figures(transaction, currency)
        if fee < 0 or net < 0 or net != amount - fee:
            raise _Unreadable("the balance transaction's fee and net do not add up")
        return ChargeBalance(
            charge_id=charge_id,
            balance_transaction_id=_id(transaction),
            fee=Money(amount=fee, currency=currency),
            net=Money(amount=net, currency=currency),
        )
    except (PaymentProviderUnavailable, PaymentRejected, _Unreadable) as error:
        return ChargeBalance(charge_id=charge_id, unknown=f"{type(error).__name__}: {error}"[:300])


def refund_balance(
    balances: Callable[[], Balances] | None, payment_intent_id: str, refunded_total: int, currency: str
) -> RefundBalance:
    """The refund that brought the charge's refunded total to `refunded_total`: the PaymentIntent's
    refunds that count are added up in the order Stripe made them, and the one whose running sum reaches
    the total is it — so a `charge.refunded` delivered late or out of order still finds its own refund."""
    if balances is None:
        return RefundBalance(unknown="no Stripe gateway to read the refund with")
    stripe = _built(balances)
    if isinstance(stripe, str):
        return RefundBalance(unknown=stripe)
    try:
        made = [r for r in stripe.list_refunds(payment_intent_id) if r.get("status", "succeeded") in REFUND_COUNTS]
        running = 0
        for refund in sorted(made, key=lambda r: (int(r.get("created") or 0), str(r.get("id")))):
            running += _int(refund, "amount")
            if running == refunded_total:
                break
        else:
            return RefundBalance(unknown="no refund of the PaymentIntent brings its total to this")
        amount = Money(amount=_int(refund, "amount"), currency=currency)
        transaction = _object(refund.get("balance_transaction"), stripe.retrieve_balance_transaction)
        moved, fee, net = _figures(transaction, currency)
        # A refund's balance transaction is negative: -amount, a fee of 0 (Stripe keeps its fee) or
        # -what it gives back, and net = moved - fee.
        if moved != -amount.amount or fee > 0 or net != moved - fee:
            raise _Unreadable("the refund's balance transaction does not match the refund")
        return RefundBalance(
            refund_id=_id(refund),
            amount=amount,
            fee=Money(amount=-fee, currency=currency),
            net=Money(amount=-net, currency=currency),
        )
    except (PaymentProviderUnavailable, PaymentRejected, _Unreadable) as error:
        return RefundBalance(unknown=f"{type(error).__name__}: {error}"[:300])


def _built(balances: Callable[[], Balances]) -> Balances | str:
    """The gateway, or why it could not be built (its secret key unreadable, say): the payment was taken
    all the same, so that is a fee left unknown, not a failed webhook."""
    try:
        return balances()
    except Exception as error:  # any failure to build it only leaves the fee unknown
        return f"no Stripe gateway: {type(error).__name__}"


def _object(value: Any, retrieve: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """An expanded Stripe object as it is, or the object behind an id (read with `retrieve`)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        found = retrieve(value)
        if isinstance(found, dict):
            return found
    raise _Unreadable("Stripe names no charge or balance transaction for it (yet)")


def _id(obj: dict[str, Any]) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not value or len(value) > 255:
        raise _Unreadable("a Stripe object without an id")
    return value


def _int(obj: dict[str, Any], name: str) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Unreadable(f"{name} is not an amount")
    return value


def _figures(transaction: dict[str, Any], currency: str) -> tuple[int, int, int]:
    if str(transaction.get("currency", "")).upper() != currency.upper():
        raise _Unreadable("the balance transaction is in another currency than the payment")
    return _int(transaction, "amount"), _int(transaction, "fee"), _int(transaction, "net")
