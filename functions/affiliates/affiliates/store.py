"""The affiliates table, and the only module that talks to DynamoDB.

Items (one table, keys PK/SK):
- `AFF#<affiliateId> / PROFILE`: the account, its rate, and its running totals (`pendingAmount`,
  `approvedAmount`, `paidAmount`, `reversedAmount`), which change in the same transaction as the
  commission that moves them. `GSI1PK=AFFILIATES, GSI1SK=<affiliateId>` lists every account (ids sort by time).
- `USER#<sub> / AFFILIATE` and `CODE#<code> / AFFILIATE`: one application per user, one account per code;
  both are written in the application's transaction.
- `AFF#<affiliateId> / COMM#<orderId>`: one commission per order, with a `version` every write checks.
  While PENDING it carries `GSI1PK=COMMISSIONS#PENDING, GSI1SK=<earnedAt>#<affiliateId>#<orderId>` (the
  approval job reads it oldest first, up to the end of the refund window); while APPROVED,
  `GSI1PK=APPROVED#<affiliateId>, GSI1SK=<orderId>` (a payout reads the affiliate's partition).
- `EVENT#<eventId> / EVENT`: an order event that changed the ledger, written in that change's transaction
  with `attribute_not_exists`, so a redelivered event changes nothing (TTL only cleans up).
- `AFF#<affiliateId> / PAYOUT#<payoutId>`: a payout, its running total and whether it finished.
- `AFF#<affiliateId> / DAY#<yyyy-mm-dd>`: the day's clicks, orders, earned and reversed (the shop's days),
  added to in the transaction of the click or the commission change they count; its key and attribute
  names are the layer's read model (`common.affiliate_stats`), which reports' statement reads too.
- `CLICK#<code>#<visitorId> / CLICK`: when that visitor first arrived with that code (the start of the
  attribution window; later clicks do not move it) and how many days they clicked.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from affiliates.models import Affiliate, AffiliateStatus, Commission, CommissionStatus, Payout, Totals
from common.affiliate_stats import day_key
from common.dynamo import Key, Page, TransactionCancelled, check_start_key, query_page, to_item, to_value
from common.errors import ServiceUnavailable
from common.store import TableStore, iso, key, parse_time

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PROFILE = "PROFILE"
AFFILIATES_PARTITION = "AFFILIATES"
PENDING_PARTITION = "COMMISSIONS#PENDING"
EVENT_MARKER_TTL = timedelta(days=90)
UTC_ZONE = ZoneInfo("UTC")


class UserHasApplied(Exception):
    """The user applied before (the USER# item exists)."""


class CodeTaken(Exception):
    """The drawn referral code belongs to another affiliate; draw again."""


class NotPending(Exception):
    """Approval found the affiliate in another status (or gone)."""


class AlreadyApplied(Exception):
    """The event's marker exists: this event changed the ledger before."""


class Stale(Exception):
    """The commission changed since it was read (or appeared); read it again and recompute."""


def affiliate_pk(affiliate_id: str) -> str:
    return f"AFF#{affiliate_id}"


def _affiliate_of(values: Mapping[str, Any]) -> Affiliate:
    return Affiliate(
        affiliate_id=values["affiliateId"],
        user_sub=values["userSub"],
        username=values["username"],
        email=values.get("email"),
        name=values["name"],
        website=values["website"],
        payout_email=values["payoutEmail"],
        code=values["code"],
        status=AffiliateStatus(values["status"]),
        rate_bps=values.get("rateBps"),
        created_at=datetime.fromisoformat(values["createdAt"]),
        approved_at=parse_time(values.get("approvedAt")),
        totals=Totals(
            pending=values.get("pendingAmount", 0),
            approved=values.get("approvedAmount", 0),
            paid=values.get("paidAmount", 0),
            reversed=values.get("reversedAmount", 0),
        ),
    )


def _commission_of(values: Mapping[str, Any]) -> Commission:
    return Commission(
        affiliate_id=values["affiliateId"],
        order_id=values["orderId"],
        customer_id=values["customerId"],
        currency=values["currency"],
        order_total=values["orderTotal"],
        base=values.get("base"),
        rate_bps=values["rateBps"],
        amount=values["amount"],
        refunded=values.get("refunded", 0),
        reversed=values.get("reversed", 0),
        status=CommissionStatus(values["status"]),
        earned_at=datetime.fromisoformat(values["earnedAt"]),
        approved_at=parse_time(values.get("approvedAt")),
        paid_at=parse_time(values.get("paidAt")),
        paid_amount=values.get("paidAmount", 0),
        payout_id=values.get("payoutId"),
        reversed_at=parse_time(values.get("reversedAt")),
        version=values["version"],
    )


def _payout_of(values: Mapping[str, Any]) -> Payout:
    return Payout(
        payout_id=values["payoutId"],
        affiliate_id=values["affiliateId"],
        total=values.get("total", 0),
        count=values.get("commissionCount", 0),
        currency=values["currency"],
        complete=values.get("complete", False),
        created_at=datetime.fromisoformat(values["createdAt"]),
    )


def _commission_item(commission: Commission) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": affiliate_pk(commission.affiliate_id),
        "SK": f"COMM#{commission.order_id}",
        "affiliateId": commission.affiliate_id,
        "orderId": commission.order_id,
        "customerId": commission.customer_id,
        "currency": commission.currency,
        "orderTotal": commission.order_total,
        "base": commission.base,
        "rateBps": commission.rate_bps,
        "amount": commission.amount,
        "refunded": commission.refunded,
        "reversed": commission.reversed,
        "status": commission.status.value,
        "earnedAt": iso(commission.earned_at),
        "approvedAt": iso(commission.approved_at) if commission.approved_at else None,
        "paidAt": iso(commission.paid_at) if commission.paid_at else None,
        "paidAmount": commission.paid_amount,
        "payoutId": commission.payout_id,
        "reversedAt": iso(commission.reversed_at) if commission.reversed_at else None,
        "version": commission.version,
    }
    if commission.status is CommissionStatus.PENDING:
        item["GSI1PK"] = PENDING_PARTITION
        item["GSI1SK"] = f"{iso(commission.earned_at)}#{commission.affiliate_id}#{commission.order_id}"
    elif commission.status is CommissionStatus.APPROVED:
        item["GSI1PK"] = f"APPROVED#{commission.affiliate_id}"
        item["GSI1SK"] = commission.order_id
    return item


class AffiliatesStore(TableStore):
    """`zone` is the shop's time zone: the days that clicks and commissions count on are the shop's."""

    busy = "affiliates is busy; retry"

    def __init__(self, table: str, client: "DynamoDBClient | None" = None, *, zone: ZoneInfo = UTC_ZONE) -> None:
        super().__init__(table, client)
        self.zone = zone

    # ------------------------------------------------------------ accounts

    def create_affiliate(self, affiliate: Affiliate) -> None:
        """Put the account with its user and code markers, all or nothing. Raises `UserHasApplied` or
        `CodeTaken`."""
        profile = {
            "PK": affiliate_pk(affiliate.affiliate_id),
            "SK": PROFILE,
            "affiliateId": affiliate.affiliate_id,
            "userSub": affiliate.user_sub,
            "username": affiliate.username,
            "email": affiliate.email,
            "name": affiliate.name,
            "website": affiliate.website,
            "payoutEmail": affiliate.payout_email,
            "code": affiliate.code,
            "status": affiliate.status.value,
            "createdAt": iso(affiliate.created_at),
            "pendingAmount": 0,
            "approvedAmount": 0,
            "paidAmount": 0,
            "reversedAmount": 0,
            "GSI1PK": AFFILIATES_PARTITION,
            "GSI1SK": affiliate.affiliate_id,
        }
        user = {"PK": f"USER#{affiliate.user_sub}", "SK": "AFFILIATE", "affiliateId": affiliate.affiliate_id}
        code = {"PK": f"CODE#{affiliate.code}", "SK": "AFFILIATE", "affiliateId": affiliate.affiliate_id}
        try:
            self.transact([self.put_new(profile), self.put_new(user), self.put_new(code)])
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 1 in failed:
                raise UserHasApplied from cancelled
            if 2 in failed:
                raise CodeTaken from cancelled
            raise _busy(cancelled) from cancelled

    def affiliate_id_of_user(self, sub: str) -> str | None:
        marker = self.get(f"USER#{sub}", "AFFILIATE")
        return str(marker["affiliateId"]) if marker else None

    def get_affiliate(self, affiliate_id: str) -> Affiliate | None:
        values = self.get(affiliate_pk(affiliate_id), PROFILE)
        return _affiliate_of(values) if values else None

    def affiliate_by_code(self, code: str) -> Affiliate | None:
        marker = self.get(f"CODE#{code}", "AFFILIATE")
        return self.get_affiliate(marker["affiliateId"]) if marker else None

    def approve(self, affiliate_id: str, rate_bps: int, now: datetime) -> Affiliate:
        """PENDING → APPROVED at `rate_bps`. Raises `NotPending` if it was not PENDING (or does not exist)."""
        values = self.update_if(
            affiliate_pk(affiliate_id),
            PROFILE,
            "SET #status = :approved, rateBps = :rate, approvedAt = :now",
            condition="#status = :pending",
            names={"#status": "status"},
            values={
                ":approved": AffiliateStatus.APPROVED.value,
                ":pending": AffiliateStatus.PENDING.value,
                ":rate": rate_bps,
                ":now": iso(now),
            },
        )
        if values is None:
            raise NotPending
        return _affiliate_of(values)

    def list_affiliates(self, *, start_key: Key | None, limit: int) -> Page[Affiliate]:
        """Accounts, newest first, from the `AFFILIATES` partition of GSI1."""
        page = self.index_page("GSI1", AFFILIATES_PARTITION, start_key=start_key, limit=limit, newest_first=True)
        items = [_affiliate_of(item) for item in page.items]
        return Page(items, page.next_key)

    # ------------------------------------------------------------ commissions

    def get_commission(self, affiliate_id: str, order_id: str) -> Commission | None:
        values = self.get(affiliate_pk(affiliate_id), f"COMM#{order_id}")
        return _commission_of(values) if values else None

    def commissions(self, affiliate_id: str, *, start_key: Key | None, limit: int) -> Page[Commission]:
        """An affiliate's commissions, newest order first (order ids sort by time)."""
        pk = affiliate_pk(affiliate_id)
        check_start_key(start_key, ("PK", "SK"), "PK", pk)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :comm)",
            "ExpressionAttributeValues": {":pk": to_value(pk), ":comm": to_value("COMM#")},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        items = [_commission_of(item) for item in page.items]
        return Page(items, page.next_key)

    def apply_event(self, event_id: str, before: Commission | None, after: Commission, now: datetime) -> None:
        """Write an order event's effect on one commission: the event's marker, the commission (new, or
        unchanged since `before` was read), the affiliate's totals and its days' figures, in one
        transaction. Raises `AlreadyApplied` if the event changed the ledger before, `Stale` if the
        commission moved."""
        marker = {
            "PK": f"EVENT#{event_id}",
            "SK": "EVENT",
            "orderId": after.order_id,
            "affiliateId": after.affiliate_id,
            "appliedAt": iso(now),
            "ttl": int((now + EVENT_MARKER_TTL).timestamp()),
        }
        actions = [self.put_new(marker), *self._commission_actions(before, after)]
        actions += [self._day_action(after.affiliate_id, day, adds) for day, adds in self._days(before, after)]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed()
            if 0 in failed:
                raise AlreadyApplied from cancelled
            if 1 in failed:
                raise Stale from cancelled
            raise _busy(cancelled) from cancelled

    def move(self, before: Commission, after: Commission, *, payout: Payout | None = None) -> None:
        """Write a commission's move (approval, payout) with the affiliate's totals, and add it to `payout`
        when given. Raises `Stale` if the commission changed since `before` was read."""
        actions = self._commission_actions(before, after)
        if payout is not None:
            actions.append(
                self.update_action(
                    affiliate_pk(payout.affiliate_id),
                    f"PAYOUT#{payout.payout_id}",
                    "ADD #total :amount, commissionCount :one",
                    condition="attribute_exists(PK) AND complete = :false",
                    names={"#total": "total"},
                    values={":amount": after.paid_amount, ":one": 1, ":false": False},
                )
            )
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                raise Stale from cancelled
            raise _busy(cancelled) from cancelled

    def pending_before(self, cutoff: datetime, *, start_key: Key | None, limit: int) -> Page[Commission]:
        """PENDING commissions earned before `cutoff`, oldest first (the index projects every attribute;
        each write re-checks the commission's version, so a stale index entry only costs a re-read)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :p AND GSI1SK < :cutoff",
            "ExpressionAttributeValues": {":p": to_value(PENDING_PARTITION), ":cutoff": to_value(iso(cutoff))},
            "Limit": limit,
        }
        page = query_page(self.client, kwargs, start_key)
        items = [_commission_of(item) for item in page.items]
        return Page(items, page.next_key)

    def approved_of(self, affiliate_id: str, *, start_key: Key | None, limit: int) -> Page[Commission]:
        page = self.index_page("GSI1", f"APPROVED#{affiliate_id}", start_key=start_key, limit=limit)
        items = [_commission_of(item) for item in page.items]
        return Page(items, page.next_key)

    # ------------------------------------------------------------ clicks and days

    def record_click(
        self, event_id: str, affiliate_id: str, code: str, visitor_id: str, at: datetime, now: datetime
    ) -> None:
        """Record a click once: its event's marker, the visitor's click on the code (keeping the first
        click's time) and the day's count, in one transaction. Raises `AlreadyApplied` for a redelivery."""
        marker = {
            "PK": f"EVENT#{event_id}",
            "SK": "EVENT",
            "affiliateId": affiliate_id,
            "appliedAt": iso(now),
            "ttl": int((now + EVENT_MARKER_TTL).timestamp()),
        }
        click: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self.table,
                "Key": key(f"CLICK#{code}#{visitor_id}", "CLICK"),
                "UpdateExpression": "SET firstAt = if_not_exists(firstAt, :at), affiliateId = :affiliate "
                "ADD clicks :one",
                "ExpressionAttributeValues": to_item({":at": iso(at), ":affiliate": affiliate_id, ":one": 1}),
            }
        }
        try:
            self.transact([self.put_new(marker), click, self._day_action(affiliate_id, self._day(at), {"clicks": 1})])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                raise AlreadyApplied from cancelled
            raise _busy(cancelled) from cancelled

    def first_click(self, code: str, visitor_id: str) -> datetime | None:
        """When `visitor_id` first arrived with `code`, or None if no click of theirs was recorded."""
        values = self.get(f"CLICK#{code}#{visitor_id}", "CLICK")
        return parse_time(values.get("firstAt")) if values else None

    def _days(self, before: Commission | None, after: Commission) -> list[tuple[date, dict[str, int]]]:
        """What a commission's change adds to its affiliate's days: a new commission is an order and its
        amount earned on the day it was earned; a reversal counts on the day it was made."""
        days: dict[date, dict[str, int]] = {}
        if before is None:
            days[self._day(after.earned_at)] = {"orders": 1, "earned": after.amount}
        taken_back = after.reversed - (before.reversed if before else 0)
        if taken_back > 0:
            adds = days.setdefault(self._day(after.reversed_at or after.earned_at), {})
            adds["reversed"] = taken_back
        return list(days.items())

    def _day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def _day_action(self, affiliate_id: str, day: date, adds: Mapping[str, int]) -> "TransactWriteItemTypeDef":
        names = {f"#{name}": name for name in adds} | {"#day": "day"}
        values = {f":{name}": amount for name, amount in adds.items()} | {":day": day.isoformat()}
        additions = ", ".join(f"#{name} :{name}" for name in adds)
        return {
            "Update": {
                "TableName": self.table,
                "Key": day_key(affiliate_id, day),
                "UpdateExpression": f"SET #day = :day ADD {additions}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    # ------------------------------------------------------------ payouts

    def open_payout(self, payout: Payout, idempotency_key: str | None) -> Payout | None:
        """Record a new, open payout; None if a payout with this id exists (a retried request)."""
        item = {
            "PK": affiliate_pk(payout.affiliate_id),
            "SK": f"PAYOUT#{payout.payout_id}",
            "payoutId": payout.payout_id,
            "affiliateId": payout.affiliate_id,
            "total": 0,
            "commissionCount": 0,
            "currency": payout.currency,
            "complete": False,
            "createdAt": iso(payout.created_at),
            "idempotencyKey": idempotency_key,
        }
        return payout if self.put_if_absent(item) else None

    def get_payout(self, affiliate_id: str, payout_id: str) -> Payout | None:
        values = self.get(affiliate_pk(affiliate_id), f"PAYOUT#{payout_id}")
        return _payout_of(values) if values else None

    def complete_payout(self, affiliate_id: str, payout_id: str) -> Payout:
        pk, sk = affiliate_pk(affiliate_id), f"PAYOUT#{payout_id}"
        values = self.update_if(
            pk, sk, "SET complete = :true", condition="attribute_exists(PK)", values={":true": True}
        )
        if values is None:
            raise LookupError(f"no payout {payout_id} of {affiliate_id}")
        return _payout_of(values)

    # ------------------------------------------------------------ building blocks

    def _commission_actions(self, before: Commission | None, after: Commission) -> list["TransactWriteItemTypeDef"]:
        """Put `after` (version + 1) if the stored commission is still `before`, and move the affiliate's
        totals by the difference. Action 0 is the commission."""
        written = after.model_copy(update={"version": (before.version if before else 0) + 1})
        put: dict[str, Any] = {"TableName": self.table, "Item": to_item(_commission_item(written))}
        if before is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": to_value(before.version)}
        delta = after.contribution() - (before.contribution() if before else Totals())
        totals = self.update_action(
            affiliate_pk(after.affiliate_id),
            PROFILE,
            "ADD pendingAmount :pending, approvedAmount :approved, paidAmount :paid, reversedAmount :reversed",
            condition="attribute_exists(PK)",
            values={
                ":pending": delta.pending,
                ":approved": delta.approved,
                ":paid": delta.paid,
                ":reversed": delta.reversed,
            },
        )
        return [{"Put": put}, totals]  # type: ignore[typeddict-item]


def _busy(cancelled: TransactionCancelled) -> ServiceUnavailable:
    return ServiceUnavailable(AffiliatesStore.busy, code="transaction_conflict", details={"reasons": cancelled.reasons})
