"""What catalog's logic calls outside its table: the event bus. Logic sees this type; `common.events`
implements it over EventBridge, and tests pass a fake."""

from collections.abc import Callable

from common.events import DomainEvent

Publisher = Callable[[list[DomainEvent]], None]
"""Puts events on the bus; raises if any was refused, so the caller's retry sends them again."""
