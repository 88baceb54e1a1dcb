"""The reports table, and the only module that talks to DynamoDB. Aggregate items are described in
`reports.logic.aggregates`; besides them:
- `EVENT#<eventId> / EVENT`: an event applied (written in the same transaction as its increments, or as
  the merged increments of the batch's events it was written with).
- `VISIT#<date>#<session>#<what> / VISIT`: a session counted once per day, path, campaign or product.
- `DAY#<date> / SPEND#<campaign>`: a campaign's ad spend that day (replaced by each PUT, not a sum).
- `RUN#<kind>#<period> / RUN` and `RUNID#<runId> / RUN`: report runs, one per kind and period.
Markers expire by TTL; nothing relies on it for correctness within its window.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from common.batches import write_chunk
from common.dynamo import TransactionCancelled, from_item, to_item, to_value
from common.store import TableStore, key
from reports.errors import ReportsBusy
from reports.models import Increment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MARKER_TTL = timedelta(days=60)
VISIT_TTL = timedelta(days=2)


def _ttl(days: timedelta = MARKER_TTL) -> int:
    return int((datetime.now(UTC) + days).timestamp())


def _marker(event_id: str) -> dict[str, Any]:
    return {"PK": f"EVENT#{event_id}", "SK": "EVENT", "ttl": _ttl()}


def _run_key(kind: str, period: str) -> str:
    return f"RUN#{kind}#{period}"


class ReportsStore(TableStore):
    busy = "reports are busy; retry"

    def __init__(self, table: str, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table, client)
        self.items_read = 0  # for the benchmark and the tests: reads proportional to the period

    # ------------------------------------------------------------ writes

    def apply(self, event_id: str, increments: Sequence[Increment]) -> bool:
        """Add the increments and mark the event applied, all or nothing; False if it was applied."""
        return self._once(_marker(event_id), increments)

    def apply_merged(self, event_ids: Sequence[str], increments: Sequence[Increment]) -> None:
        """Mark each event applied and add `increments` (their sum, one per item), all or nothing: at most
        100 actions together. `SeenBefore` names the events whose markers exist (nothing was written);
        `ReportsBusy` when DynamoDB stayed busy (conflicts after their retries, throttling)."""
        markers = [self.put_new(_marker(event_id)) for event_id in event_ids]
        actions = [self._increment(i) for i in increments]
        write_chunk(self.transact, event_ids, markers, actions, busy=lambda: ReportsBusy(code="transaction_conflict"))

    def count_once(self, marker: str, *increments: Increment) -> bool:
        """Apply `increments` if `marker` was not seen (a visiting session counted once); False if it was."""
        return self._once({"PK": marker, "SK": "VISIT", "ttl": _ttl(VISIT_TTL)}, increments)

    def add(self, increments: Sequence[Increment]) -> None:
        """Apply `increments` unconditionally, all or nothing (what counts every time: a page view)."""
        try:
            self.transact([self._increment(i) for i in increments])
        except TransactionCancelled as cancelled:
            raise ReportsBusy(code="transaction_conflict") from cancelled

    def put_spend(self, day: str, campaign: str, amount: int, currency: str, *, by: str, at: str) -> None:
        """Record a campaign's spend on a day, replacing what was recorded (who and when kept with it)."""
        item = {"PK": f"DAY#{day}", "SK": f"SPEND#{campaign}", "amount": amount, "currency": currency}
        self.client.put_item(TableName=self.table, Item=to_item(item | {"setBy": by, "setAt": at}))

    def _once(self, marker: Mapping[str, Any], increments: Sequence[Increment]) -> bool:
        actions = [self.put_new(marker), *(self._increment(i) for i in increments)]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise ReportsBusy(code="transaction_conflict") from cancelled
        return True

    def _increment(self, increment: Increment) -> "TransactWriteItemTypeDef":
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
                "Key": key(increment.pk, increment.sk),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # ------------------------------------------------------------ reads

    def totals(self, partitions: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The `TOTAL` item of each day partition that has one, by partition."""
        items = self.batch_read([key(pk, "TOTAL") for pk in dict.fromkeys(partitions)])
        self.items_read += len(items)
        return {values["PK"]: values for values in items}

    def traffic(self, partitions: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The `TRAFFIC` item (sessions, page views) of each day partition that has one, by partition."""
        items = self.batch_read([key(pk, "TRAFFIC") for pk in dict.fromkeys(partitions)])
        self.items_read += len(items)
        return {values["PK"]: values for values in items}

    def rows(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of one partition whose sort key starts with `prefix` (every page of them)."""
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
        item = {**run, "PK": _run_key(run["kind"], run["period"]), "SK": "RUN"}
        pointer = {"PK": f"RUNID#{run['runId']}", "SK": "RUN", "kind": run["kind"], "period": run["period"]}
        try:
            self.transact([self.put_new(item), {"Put": {"TableName": self.table, "Item": to_item(pointer)}}])
        except TransactionCancelled as cancelled:
            if 0 not in cancelled.failed():
                raise ReportsBusy() from cancelled
            existing = self.run(run["kind"], run["period"])
            if existing is None:
                raise ReportsBusy() from cancelled
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
        names = {"#status": "status", "#error": "error"} | {f"#f{i}": name for i, name in enumerate(fields)}
        values: dict[str, Any] = {":was": existing["status"]} | {f":f{i}": v for i, v in enumerate(fields.values())}
        if existing.get("claimedAt"):
            condition = "#status = :was AND claimedAt = :claimed"
            values[":claimed"] = existing["claimedAt"]
        else:
            condition = "#status = :was AND attribute_not_exists(claimedAt)"
        update = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))) + " REMOVE " + ", ".join(removed)
        return self.update_if(
            _run_key(existing["kind"], existing["period"]),
            "RUN",
            update,
            condition=condition,
            values=values,
            names=names,
        )

    def finish_run(self, kind: str, period: str, **fields: Any) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": to_value(value) for i, value in enumerate(fields.values())}
        self.client.update_item(
            TableName=self.table,
            Key=key(_run_key(kind, period), "RUN"),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def run(self, kind: str, period: str) -> dict[str, Any] | None:
        return self.get(_run_key(kind, period), "RUN")

    def run_by_id(self, run_id: str) -> dict[str, Any] | None:
        pointer = self.get(f"RUNID#{run_id}", "RUN")
        return self.run(pointer["kind"], pointer["period"]) if pointer else None
