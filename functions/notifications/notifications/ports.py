"""What notifications calls outside its own logic: the mail service, its claim table, and customers'
erasure markers. Logic sees these protocols; `notifications.adapters`, `notifications.store` and
`common.contacts` implement them, and tests pass fakes."""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class Mailer(Protocol):
    def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        """Send a whole MIME message; answer the mail service's message id."""
        ...


class Claims(Protocol):
    def claim(self, key: str, now: datetime) -> bool | None:
        """Take the right to send email `key`: True when taken (first, or over a stale claim), False when
        it was sent already, None when another invocation holds a fresh claim."""
        ...

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None: ...

    def release(self, key: str, claimed_at: datetime) -> None:
        """Give up a claim whose send failed, so a retry may send at once."""
        ...


class Erasures(Protocol):
    def is_erased(self, sub: str) -> bool: ...
