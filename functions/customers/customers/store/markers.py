"""The parts of an event already applied (`EVENT#<eventId> / <part>`). A part's marker is written in
the transaction of its change (`CustomersTable.marker`); `DONE` is written last, alone, so a plain
duplicate costs one read."""

from datetime import datetime

from customers.store.base import CustomersTable, marker_item


class MarkerStore(CustomersTable):
    def is_applied(self, event_id: str, part: str) -> bool:
        return self.get(f"EVENT#{event_id}", part) is not None

    def mark_applied(self, event_id: str, part: str, now: datetime) -> None:
        """Record the part as applied; one recorded already (a retry) is left as it is."""
        self.put_if_absent(marker_item(event_id, part, now))
