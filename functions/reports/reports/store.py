"""The reports table, and the only module that talks to DynamoDB. Aggregate items are described in
`reports.aggregates`; besides them:
- `EVENT#<eventId> / EVENT`: an event applied (written in the same transaction as its increments).
- `VISIT#<date>#<session>#<what> / VISIT`: a session counted once per campaign or product and day.
- `RUN#<kind>#<period> / RUN` and `RUNID#<runId> / RUN`: report runs, one per kind and period.
Markers expire by TTL; nothing relies on it for correctness within its window.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.dynamo import TransactionCancelled, batch_get, dynamodb_client, from_item, to_item, to_value, transact_write
from common.errors import ServiceUnavailable
from reports.aggregates import Increment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MARKER_TTL = timedelta(days=60)


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _ttl(days: timedelta = MARKER_TTL) -> int:
    return int((datetime.now(UTC) + days).timestamp())


class ReportsStore:
    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        self.table = table
        self._client = client
        self.items_read = 0  # for the benchmark and the tests: reads proportional to the period

    @property
    def client(self) -> "DynamoDBClient":
        return self._client or dynamodb_client()

    # ------------------------------------------------------------ writes

    def apply(self, event_id: str, increments: Sequence[Increment]) -> bool:
        """Add the increments and mark the event applied, all or nothing; False if it was applied."""
        marker = {"PK": f"EVENT#{event_id}", "SK": "EVENT", "ttl": _ttl()}
        actions: list[Any] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(marker),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        actions += [self._increment(i) for i in increments]
        try:
            transact_write(actions, client=self.client)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise ServiceUnavailable("reports are busy; retry", code="transaction_conflict") from cancelled
        return True

    def count_once(self, marker: str, increment: Increment) -> bool:
        """Apply `increment` if `marker` was not seen (a visiting session counted once); False if it was."""
        item = {"PK": marker, "SK": "VISIT", "ttl": _ttl(timedelta(days=2))}
        put = {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}
        actions: list[Any] = [{"Put": put}, self._increment(increment)]
        try:
            transact_write(actions, client=self.client)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise ServiceUnavailable("reports are busy; retry", code="transaction_conflict") from cancelled
        return True

    def _increment(self, increment: Increment) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets = [], []
        for i, (attribute, delta) in enumerate(increment.add.items()):
            names[f"#a{i}"] = attribute
            values[f":a{i}"] = {"N": str(delta)}
            adds.append(f"#a{i} :a{i}")
        for i, (attribute, value) in enumerate(increment.set_if_absent.items()):
            names[f"#s{i}"] = attribute
            values[f":s{i}"] = to_value(value)
            sets.append(f"#s{i} = if_not_exists(#s{i}, :s{i})")
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "ADD " + ", ".join(adds)
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(increment.pk, increment.sk),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # ------------------------------------------------------------ reads

    def totals(self, partitions: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The `TOTAL` item of each day partition that has one, by partition."""
        keys = [_key(pk, "TOTAL") for pk in dict.fromkeys(partitions)]
        items, unprocessed = batch_get(self.client, self.table, keys)
        if unprocessed:
            raise ServiceUnavailable("reports are busy; retry")
        self.items_read += len(items)
        return {values["PK"]: values for values in (from_item(item) for item in items)}

    def rows(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of one partition whose sort key starts with `prefix`."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": prefix}},
        }
        while True:
            response = self.client.query(**kwargs)
            items = response.get("Items", [])
            self.items_read += len(items)
            found += [from_item(i) for i in items]
            if not response.get("LastEvaluatedKey"):
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ------------------------------------------------------------ report runs

    def claim_run(
        self, run: dict[str, Any], *, may_take_over: Callable[[dict[str, Any]], bool]
    ) -> tuple[dict[str, Any], bool]:
        """Claim the run of one kind and period for `run["status"]` (QUEUED or RUNNING): (the run, True) if
        this caller has it now; (the existing run, False) if one is recorded and `may_take_over` refuses
        it, or another caller took it over first. A run keeps its first id for good."""
        item = {**run, "PK": f"RUN#{run['kind']}#{run['period']}", "SK": "RUN"}
        pointer = {"PK": f"RUNID#{run['runId']}", "SK": "RUN", "kind": run["kind"], "period": run["period"]}
        try:
            transact_write(
                [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {"Put": {"TableName": self.table, "Item": to_item(pointer)}},
                ],
                client=self.client,
            )
        except TransactionCancelled as cancelled:
            if 0 not in cancelled.failed():
                raise ServiceUnavailable("reports are busy; retry") from cancelled
            existing = self.run(run["kind"], run["period"])
            if existing is None:
                raise ServiceUnavailable("reports are busy; retry") from cancelled
            if not may_take_over(existing):
                return existing, False
            taken = self._take_over(existing, run)
            return (taken, True) if taken is not None else (existing, False)
        return item, True

    def _take_over(self, existing: dict[str, Any], run: dict[str, Any]) -> dict[str, Any] | None:
        """Move `existing` to the claim's status, on the condition that nobody changed it since it was
        read (its status and claim stamp; runs recorded before claim stamps had none); None if somebody did."""
        status = run["status"]
        stamp_field = "startedAt" if status == "RUNNING" else "queuedAt"
        fields = {"status": status, "claimedAt": run["claimedAt"], stamp_field: run[stamp_field]}
        removed = ["#error", "finishedAt"] + (["startedAt"] if status == "QUEUED" else [])
        names = {"#status": "status", "#error": "error"}
        values: dict[str, Any] = {":was": {"S": existing["status"]}}
        sets = []
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = to_value(value)
            sets.append(f"#f{i} = :f{i}")
        if existing.get("claimedAt"):
            condition = "#status = :was AND claimedAt = :claimed"
            values[":claimed"] = {"S": existing["claimedAt"]}
        else:
            condition = "#status = :was AND attribute_not_exists(claimedAt)"
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(f"RUN#{existing['kind']}#{existing['period']}", "RUN"),
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE " + ", ".join(removed),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        dropped = {"error", "finishedAt"} | ({"startedAt"} if status == "QUEUED" else set())
        kept = {k: v for k, v in existing.items() if k not in dropped}
        return {**kept, **fields}

    def finish_run(self, kind: str, period: str, **fields: Any) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": to_value(value) for i, value in enumerate(fields.values())}
        self.client.update_item(
            TableName=self.table,
            Key=_key(f"RUN#{kind}#{period}", "RUN"),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def run(self, kind: str, period: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key=_key(f"RUN#{kind}#{period}", "RUN"), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def run_by_id(self, run_id: str) -> dict[str, Any] | None:
        pointer = self.client.get_item(
            TableName=self.table, Key=_key(f"RUNID#{run_id}", "RUN"), ConsistentRead=True
        ).get("Item")
        if not pointer:
            return None
        values = from_item(pointer)
        return self.run(values["kind"], values["period"])
