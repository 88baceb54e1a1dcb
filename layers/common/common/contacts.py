"""Customers' erasure read model: the key of the marker customers leaves when it erases a customer, and
the one way another domain reads it.

Customers owns the marker (`CUSTOMER#<sub> / ERASED {erasedAt}`, written by its erasure store); the
notifications consumer reads it, read-only (IAM says so), through `ErasureReader` before it emails a
customer, so that an erased customer is never emailed even when an order event still carries their
address (an order still to ship keeps it until it ships). Like `common.stock`, it lives in the layer
because the reader is another function that cannot import customers' package. Rejected: copying erasures
into notifications' table from an event (a second truth, and a window between erasure and event)."""

from typing import TYPE_CHECKING

from common.contracts import CustomerErasure
from common.dynamo import Key, dynamodb_client, from_item
from common.store import key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ERASED_SK = "ERASED"
_PK_PREFIX = "CUSTOMER#"
PROJECTION = ", ".join(field.alias or name for name, field in CustomerErasure.model_fields.items())
"""The attributes a reader needs: `CustomerErasure`'s fields under their stored (camelCase) names."""


def customer_pk(sub: str) -> str:
    return f"{_PK_PREFIX}{sub}"


def erasure_key(sub: str) -> Key:
    """The key of a customer's erasure marker (`CUSTOMER#<sub>` / `ERASED`)."""
    return key(customer_pk(sub), ERASED_SK)


class ErasureReader:
    """Reads customers' erasure markers from the customers table, strongly consistent: an email decided
    a moment after an erasure must see it."""

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    def erasure(self, sub: str) -> CustomerErasure | None:
        """The customer's erasure marker, or None if they were never erased."""
        client = self._client or dynamodb_client()
        item = client.get_item(
            TableName=self.table, Key=erasure_key(sub), ConsistentRead=True, ProjectionExpression=PROJECTION
        ).get("Item")
        return CustomerErasure.model_validate(from_item(item)) if item else None

    def is_erased(self, sub: str) -> bool:
        return self.erasure(sub) is not None
