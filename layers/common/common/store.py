"""The scaffolding every domain's store stands on: keys, the one timestamp format, the table's client,
and the reads and writes each store used to write for itself (get, prefix query, batch read, put if
absent, conditional update, transaction). A store subclasses `TableStore` and adds its aggregates."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from common.dynamo import Key, batch_get, dynamodb_client, from_item, is_condition_failure, to_item, transact_write
from common.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def key(pk: str, sk: str) -> Key:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def iso(at: datetime) -> str:
    """The one stored timestamp format: UTC, microseconds, `Z` (sorts as text in time order)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class TableStore:
    """One DynamoDB table with `PK`/`SK` keys. `busy` names the domain in the 503 a reader gets when
    DynamoDB leaves keys unprocessed after every retry."""

    busy = "the store is busy; retry"

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=key(pk, sk), ConsistentRead=consistent).get("Item")
        return from_item(item) if item else None

    def query_prefix(self, pk: str, prefix: str, *, limit: int, newest_first: bool = False) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]

    def batch_read(
        self, keys: Sequence[Key], *, projection: str | None = None, consistent: bool = False
    ) -> list[dict[str, Any]]:
        """Every item of `keys` that exists, retried with backoff; a 503 if DynamoDB stays busy."""
        items, unprocessed = batch_get(self.client, self.table, keys, consistent=consistent, projection=projection)
        if unprocessed:
            raise ServiceUnavailable(self.busy)
        return [from_item(item) for item in items]

    def put_new(self, item: Mapping[str, Any]) -> "TransactWriteItemTypeDef":
        """A transaction action that creates `item` only if its key is free."""
        return {
            "Put": {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def put_if_absent(self, item: Mapping[str, Any]) -> bool:
        """Create `item` unless its key exists; False when it did (a retry, or someone was first)."""
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def update_if(
        self,
        pk: str,
        sk: str,
        update: str,
        *,
        condition: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Apply `update` if `condition` holds and answer the item after it; None when it did not hold."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(pk, sk),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = to_item(values)
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        try:
            response = self.client.update_item(**kwargs)
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return from_item(response["Attributes"])

    def transact(self, actions: Sequence["TransactWriteItemTypeDef"], *, token: str | None = None) -> None:
        """Run actions on this table as one transaction (actions may leave `TableName` empty)."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table  # type: ignore[index]
        transact_write(actions, token=token, client=self.client)
