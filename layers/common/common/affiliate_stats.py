"""Affiliates' daily figures read model: the key of an affiliate's day item and the one way to read a
range of days. Affiliates writes the items (its store imports the key from here) in the same
transactions that record a click or move a commission; its own stats route and reports' monthly
statement read them through `AffiliateStatsReader`, so the dashboard and the statement show the same
figures from the same items. It lives in the layer because reports cannot import affiliates' package.
Rejected: reports counting clicks and orders again from events (a second truth to keep in step)."""

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from common.contracts import AffiliateDay
from common.dynamo import Key, dynamodb_client, query_page
from common.store import key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DAY_PREFIX = "DAY#"
PROJECTION = ", ".join(f"#{name}" for name in AffiliateDay.model_fields)
"""The attributes a reader needs: `AffiliateDay`'s field names, stored under the same names."""


def affiliate_pk(affiliate_id: str) -> str:
    return f"AFF#{affiliate_id}"


def day_sk(day: date) -> str:
    return f"{DAY_PREFIX}{day.isoformat()}"


def day_key(affiliate_id: str, day: date) -> Key:
    """The key of an affiliate's day item (`AFF#<affiliateId>` / `DAY#<yyyy-mm-dd>`)."""
    return key(affiliate_pk(affiliate_id), day_sk(day))


class AffiliateStatsReader:
    """Reads an affiliate's days from affiliates' table, eventually consistent."""

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client

    def days(self, affiliate_id: str, start: date, end: date) -> list[AffiliateDay]:
        """Every day from `start` to `end` (inclusive), oldest first; a day without an item is all zeros."""
        found: dict[str, AffiliateDay] = {}
        if self.table and start <= end:
            client = self._client or dynamodb_client()
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
                "ExpressionAttributeValues": {
                    ":pk": {"S": affiliate_pk(affiliate_id)},
                    ":from": {"S": day_sk(start)},
                    ":to": {"S": day_sk(end)},
                },
                "ProjectionExpression": PROJECTION,
                "ExpressionAttributeNames": {f"#{name}": name for name in AffiliateDay.model_fields},
            }
            start_key: Key | None = None
            while True:
                page = query_page(client, request, start_key)
                for item in page.items:
                    level = AffiliateDay.model_validate(item)
                    found[level.day] = level
                if page.next_key is None:
                    break
                start_key = page.next_key
        every = (start + timedelta(days=n) for n in range((end - start).days + 1))
        return [found.get(d.isoformat()) or AffiliateDay(day=d.isoformat()) for d in every]
