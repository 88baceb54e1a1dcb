"""What affiliates calls outside its table: the user pool's groups and the event bus. Logic sees these
types; `affiliates.adapters` (Cognito) and `common.events` (EventBridge) implement them, and tests may
pass others."""

from collections.abc import Callable
from typing import Protocol

from common.events import DomainEvent

Publisher = Callable[[list[DomainEvent]], None]
"""Puts events on the bus; raises if any was refused, so the caller's retry sends them again."""


class Groups(Protocol):
    def add(self, username: str, group: str) -> None:
        """Put the user in `group` (a no-op if they are in it). Effective on their next token."""
        ...
