"""What every aggregate of the customers table shares: its keys, its busy answer, and the event
markers written in the same transaction as the change they guard.

Items of the customers table (one table, keys PK/SK), each aggregate in its own module:
- `profiles`: `CUSTOMER#<sub> / PROFILE {email, name, phone, marketingConsent, stripeCustomerId,
  defaultAddressId, addressCount}`.
- `addresses`: `CUSTOMER#<sub> / ADDRESS#<addressId>`, at most 20, counted on the profile.
- `history`: `CUSTOMER#<sub> / SUMMARY`, `/ ORDER#<orderId>` and `/ BOUGHT#<productId>`, from order events.
- `counters`: `COPURCHASE#<a> / PRODUCT#<b>` and `BESTSELLER#<category|*> / PRODUCT#<id>`, ranked in GSI2.
- `products`: `PRODUCT#<productId> / META`, the catalog projection.
- `notes`: `CUSTOMER#<sub> / NOTE#<noteId>`, support's notes.
- `deals`: `CUSTOMER#<sub> / DEAL#<dealId>`, win-back deals, found through GSI1 (customers by the day of
  their last paid order, kept on the summary).
- `markers`: `EVENT#<eventId> / <part>`, the parts of an event already applied, each written in the same
  transaction as its change, so an event changes things once however often it is delivered.
- `search`: `CUSTOMER#<sub> / SEARCH#<term>`, what support finds a customer by, found through GSI2
  (`SEARCH#<first two letters>` partitions, beside the counters').
- `erasure`: `CUSTOMER#<sub> / ERASED {erasedAt}`, the only item left of an erased customer.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.dynamo import TransactionCancelled
from common.errors import ServiceUnavailable
from common.store import TableStore, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PROFILE, SUMMARY, META, ERASED = "PROFILE", "SUMMARY", "META", "ERASED"
MARKER_TTL = timedelta(days=30)
MAX_TRANSACTION_ACTIONS = 100
BUSY = "customers are busy; retry"


class AlreadyApplied(Exception):
    """The event (part) was applied before: its marker exists."""


class Contended(Exception):
    """Someone changed what we read before we wrote: read again and retry."""


def customer_pk(sub: str) -> str:
    return f"CUSTOMER#{sub}"


def marker_item(event_id: str, part: str, now: datetime) -> dict[str, Any]:
    """`part` of the event was applied at `now` (kept a month: redeliveries come within hours)."""
    return {"PK": f"EVENT#{event_id}", "SK": part, "at": iso(now), "ttl": int((now + MARKER_TTL).timestamp())}


def busy() -> ServiceUnavailable:
    return ServiceUnavailable(BUSY, code="transaction_conflict")


class CustomersTable(TableStore):
    """The customers table; each aggregate store of `customers.store` is one."""

    busy = BUSY

    def marker(self, event_id: str, part: str, now: datetime) -> "TransactWriteItemTypeDef":
        """The action that records `part` of the event as applied; it fails if it was."""
        return self.put_new(marker_item(event_id, part, now))

    def versioned_put(self, item: Mapping[str, Any], read_version: int | None) -> "TransactWriteItemTypeDef":
        """Put `item` (whose version is the next one) only if it is still at the version that was read."""
        action = self.put_new(item)
        if read_version is not None:
            action["Put"]["ConditionExpression"] = "version = :v"
            action["Put"]["ExpressionAttributeValues"] = {":v": {"N": str(read_version)}}
        return action

    def apply_once(self, actions: Sequence["TransactWriteItemTypeDef"]) -> None:
        """Run a transaction whose first action is an event's `marker`, guarded by what was read.
        Raises `AlreadyApplied` if the marker exists, `Contended` when an item moved since it was read
        (read again, retry), a 503 when DynamoDB stays busy."""
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise AlreadyApplied from cancelled
            if failed or "TransactionConflict" in cancelled.reasons:
                raise Contended from cancelled
            raise busy() from cancelled
