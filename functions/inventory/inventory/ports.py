"""What inventory's logic calls outside its table: the event bus and the order workflow. Logic sees
these types; `inventory.adapters` and `common.events` implement them over AWS, and tests pass fakes."""

from collections.abc import Callable

from common.events import DomainEvent

Publisher = Callable[[list[DomainEvent]], None]
"""Puts events on the bus; raises if any was refused, so the caller's retry sends them again."""

IsWaiting = Callable[[str], bool]
"""Tells whether an order's workflow may still use its hold (its execution is running)."""
