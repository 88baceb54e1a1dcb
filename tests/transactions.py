"""What a suite sees of a store's transactions: every TransactWriteItems a DynamoDB client sends, and the
ones DynamoDB would refuse under load (`watching`)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

_EVENT = "provide-client-params.dynamodb.TransactWriteItems"


@dataclass
class Transactions:
    """Every TransactWriteItems sent, as (PK, SK) per action; one carrying the marker of a `refused` event
    (an item `EVENT#<eventId>`, whatever its SK) is cancelled with `code` on its first action, as DynamoDB
    does under load. `cancelled` holds the event ids of each transaction cancelled."""

    sent: list[list[tuple[str, str]]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    code: str = "TransactionConflict"
    cancelled: list[set[str]] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        keys = []
        for action in params["TransactItems"]:
            body = next(iter(action.values()))
            item = body.get("Key") or body["Item"]
            keys.append((item["PK"]["S"], item["SK"]["S"]))
        self.sent.append(keys)
        markers = {pk.removeprefix("EVENT#") for pk, _sk in keys if pk.startswith("EVENT#")}
        if markers & self.refused:
            self.cancelled.append(markers)
            reasons = [{"Code": "None"}] * len(keys)
            reasons[0] = {"Code": self.code, "Message": "refused by the test"}
            error: Any = {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": reasons,
            }
            raise ClientError(error, "TransactWriteItems")


@contextmanager
def watching(client: Any) -> Iterator[Transactions]:
    """A `Transactions` seeing every TransactWriteItems of the DynamoDB `client` while the block runs."""
    seen = Transactions()
    client.meta.events.register(_EVENT, seen)
    try:
        yield seen
    finally:
        client.meta.events.unregister(_EVENT, seen)
