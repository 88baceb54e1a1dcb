"""The scaffolding every domain's store stands on: keys, the one timestamp format, the table's client,
and the reads and writes each store used to write for itself (get, prefix query, batch read, put if
absent, conditional update, transaction). A store subclasses `TableStore` and adds its aggregates."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from botocore.exceptions import ClientError
from pydantic import PlainSerializer

from common.dynamo import (
    Key,
    Page,
    batch_get,
    check_start_key,
    dynamodb_client,
    from_item,
    is_condition_failure,
    query_page,
    retry_write_conflicts,
    to_item,
    transact_write,
)
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


Stamp = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]
"""A time in a stored pydantic record: `model_dump(mode="json")` writes it with `iso` (pydantic's own
form drops a zero fraction, so it would not be the one format)."""


class TableStore:
    """One DynamoDB table with `PK`/`SK` keys. `busy` names the domain in the 503 a reader gets when
    DynamoDB leaves keys unprocessed after every retry."""

    busy = "the store is busy; retry"

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = retry_write_conflicts(client) if client is not None else None

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

    def query_all(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every item of partition `pk` whose SK starts with `prefix` (all of it for ""), page after page,
        strongly consistent: for a partition known to stay small (one customer's items, an export)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk" + (" AND begins_with(SK, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":prefix": {"S": prefix}} if prefix else {}),
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        start: Key | None = None
        while True:
            page = query_page(self.client, request, start)
            found += page.items
            if page.next_key is None:
                return found
            start = page.next_key

    def index_page(
        self, index: str, partition: str, *, start_key: Key | None, limit: int, newest_first: bool = False
    ) -> Page[dict[str, Any]]:
        """One page of partition `partition` of GSI `index` (keys `<index>PK`/`<index>SK`, as every table
        here names them), resumed after `start_key`, which is checked first: it came from a client's
        cursor, so it must be a key of this very partition."""
        check_start_key(start_key, ("PK", "SK", f"{index}PK", f"{index}SK"), f"{index}PK", partition)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}PK"},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        return query_page(self.client, request, start_key)

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

    def update(
        self, pk: str, sk: str, update: str, *, values: Mapping[str, Any], names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Apply `update` unconditionally (creating the item if need be) and answer the item after it."""
        request = self._update_request(pk, sk, update, values=values, names=names)
        return from_item(self.client.update_item(**request)["Attributes"])

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
        request = self._update_request(pk, sk, update, values=values, names=names) | {"ConditionExpression": condition}
        try:
            response = self.client.update_item(**request)
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return from_item(response["Attributes"])

    def update_action(
        self,
        pk: str,
        sk: str,
        update: str,
        *,
        condition: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> "TransactWriteItemTypeDef":
        """`update_if` as a transaction action (for `transact`): the update rides with other writes."""
        request = self._update_request(pk, sk, update, values=values, names=names) | {"ConditionExpression": condition}
        del request["ReturnValues"]
        return {"Update": request}  # type: ignore[typeddict-item]

    def ensure_maps(self, pk: str, sk: str, *attributes: str) -> None:
        """Give an existing item an empty map at each of `attributes` it lacks, so that paths in them can be
        set (`SET refunds.#id = ...` fails on an item without `refunds`). Nothing happens to a missing item."""
        names = {f"#m{i}": attribute for i, attribute in enumerate(attributes)}
        self.update_if(
            pk,
            sk,
            "SET " + ", ".join(f"{name} = if_not_exists({name}, :empty)" for name in names),
            condition="attribute_exists(PK) AND ("
            + " OR ".join(f"attribute_not_exists({name})" for name in names)
            + ")",
            values={":empty": {}},
            names=names,
        )

    def _update_request(
        self, pk: str, sk: str, update: str, *, values: Mapping[str, Any] | None, names: Mapping[str, str] | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(pk, sk),
            "UpdateExpression": update,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        if names:
            request["ExpressionAttributeNames"] = dict(names)
        return request

    def transact(self, actions: Sequence["TransactWriteItemTypeDef"], *, token: str | None = None) -> None:
        """Run actions on this table as one transaction (actions may leave `TableName` empty)."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table  # type: ignore[index]
        transact_write(actions, token=token, client=self.client)
