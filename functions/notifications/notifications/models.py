"""Notifications' own shapes: an email ready to send, and the claim record that makes it go once."""

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Email:
    """One message: `key` names it for the claim (one email per key, however often its event comes)."""

    key: str
    to: tuple[str, ...]
    subject: str
    html: str
    text: str


class ClaimState(StrEnum):
    CLAIMED = "CLAIMED"
    SENT = "SENT"


class Outcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
