"""Send an email once: claim it, send it, mark it sent (`notifications.store` explains the protocol)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from common.events import Received
from notifications.errors import NoticeInFlight
from notifications.logic.compose import Shop, compose
from notifications.logic.render import mime
from notifications.models import Email, Outcome
from notifications.ports import Claims, Erasures, Mailer


@dataclass(frozen=True)
class Ports:
    claims: Claims
    mailer: Mailer
    erasures: Erasures
    sender: str
    shop: Shop
    staff: list[str]
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class Delivered:
    outcome: Outcome
    key: str | None = None
    reason: str | None = None


def notify(ports: Ports, received: Received) -> Delivered:
    """The email the event makes, sent once however often the event comes. An erased customer is never
    emailed (customers' erasure marker, read at the moment of sending)."""
    draft = compose(received, ports.shop, ports.staff)
    if draft is None:
        return Delivered(Outcome.SKIPPED, reason="no email for this event, or no one to send it to")
    if draft.customer_id is not None and ports.erasures.is_erased(draft.customer_id):
        return Delivered(Outcome.SKIPPED, draft.email.key, "the customer was erased")
    return deliver(ports, draft.email)


def deliver(ports: Ports, email: Email) -> Delivered:
    """Claim, send, mark. Sent before: a duplicate, nothing sent. Claimed by a live invocation:
    `NoticeInFlight` (the retry finds it sent, or takes over a dead one's claim). A failed send gives the
    claim back and fails, so the retry sends."""
    now = ports.clock()
    taken = ports.claims.claim(email.key, now)
    if taken is False:
        return Delivered(Outcome.DUPLICATE, email.key)
    if taken is None:
        raise NoticeInFlight(email.key)
    raw = mime(
        sender=ports.sender,
        to=email.to,
        reply_to=ports.shop.support_email,
        subject=email.subject,
        html=email.html,
        text=email.text,
        now=now,
    )
    try:
        message_id = ports.mailer.send(ports.sender, email.to, raw)
    except Exception:
        ports.claims.release(email.key, now)
        raise
    ports.claims.mark_sent(email.key, message_id, ports.clock())
    return Delivered(Outcome.SENT, email.key)
