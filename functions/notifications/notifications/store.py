"""The notifications table, and the only module that talks to DynamoDB.

Items (keys PK/SK): `NOTICE#<key> / META {state, claimedAt, sentAt, messageId, ttl}`: one per email, keyed
by what makes it one (the event's id; a low-stock alert by SKU and crossing). SES takes no idempotency
key, so an email goes out as claim → send → mark sent:
- the claim is a conditional put: only one delivery of an event may send;
- a claim never marked sent is taken over once older than the function could run (`claim_seconds`): its
  invocation died. If it died after SES accepted the message and before the mark, the email goes twice —
  the one at-least-once window left (docs/decisions.md);
- a send that fails releases the claim (a conditional delete of our own claim), so the retry sends.
Items expire after 30 days (`ttl`): every redelivery comes within hours.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from common.dynamo import is_condition_failure, to_item
from common.store import TableStore, iso, key
from notifications.models import ClaimState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

META = "META"
KEEP = timedelta(days=30)


def notice_pk(notice_key: str) -> str:
    return f"NOTICE#{notice_key}"


class NotificationsStore(TableStore):
    busy = "notifications are busy; retry"

    def __init__(self, table: str, claim_seconds: int = 120, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table, client)
        self.stale_after = timedelta(seconds=claim_seconds)

    def claim(self, notice_key: str, now: datetime) -> bool | None:
        item = {
            "PK": notice_pk(notice_key),
            "SK": META,
            "state": ClaimState.CLAIMED.value,
            "claimedAt": iso(now),
            "ttl": int((now + KEEP).timestamp()),
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(PK) OR (#state = :claimed AND claimedAt < :stale)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(
                    {":claimed": ClaimState.CLAIMED.value, ":stale": iso(now - self.stale_after)}
                ),
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            found = self.get(notice_pk(notice_key), META)
            if found is None:  # released between our put and our read: the retry claims it
                return None
            return None if found.get("state") == ClaimState.CLAIMED.value else False
        return True

    def mark_sent(self, notice_key: str, message_id: str, now: datetime) -> None:
        self.update(
            notice_pk(notice_key),
            META,
            "SET #state = :sent, sentAt = :at, messageId = :id",
            values={":sent": ClaimState.SENT.value, ":at": iso(now), ":id": message_id},
            names={"#state": "state"},
        )

    def release(self, notice_key: str, claimed_at: datetime) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=key(notice_pk(notice_key), META),
                ConditionExpression="#state = :claimed AND claimedAt = :mine",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":claimed": ClaimState.CLAIMED.value, ":mine": iso(claimed_at)}),
            )
        except ClientError as error:
            if not is_condition_failure(error):  # someone took it over: theirs now
                raise

    def state(self, notice_key: str) -> dict[str, object] | None:
        """The claim record (tests and operators look)."""
        return self.get(notice_pk(notice_key), META)
