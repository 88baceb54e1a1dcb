"""The commission ledger: order events in (any order, any number of times), the daily approval after
the refund window, and payouts."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from affiliates import api, jobs, logic
from affiliates.models import Commission
from affiliates.store import AffiliatesStore
from common.contracts import OrderRefunded
from common.dynamo import Key, Page
from tests.fakes import FakePublisher
from tests.integration.affiliates.conftest import (
    T0,
    AffiliatesWorld,
    Call,
    Deliver,
    Partner,
    cancelled,
    days,
    paid,
    refunded,
    snapshot,
)

Approve = Callable[..., Partner]


def ledger(call: Call, partner: Partner) -> list[dict[str, Any]]:
    answer = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"])
    assert answer.status == 200, answer.body
    items: list[dict[str, Any]] = answer.body["items"]
    return items


def totals(call: Call, partner: Partner) -> dict[str, int]:
    answer = call("GET", "/affiliates/me", user=partner.user, groups=["affiliate"])
    assert answer.status == 200, answer.body
    return {name: money["amount"] for name, money in answer.body["totals"].items()}


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def test_a_paid_order_earns_a_pending_commission_on_its_net_total(
    world: AffiliatesWorld, call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given an affiliate at 10 % and an order of 45.00 after a 5.00 discount, with their code in lower case
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_paid", total=4500, discount=500, code=partner.code.lower())
    world.published()
    # When the order is paid
    answer = deliver(paid(order))
    # Then a PENDING commission of 4.50 is recorded, and counted in the totals
    assert answer == {"outcome": "recorded", "reason": None}
    [entry] = ledger(call, partner)
    assert (entry["orderId"], entry["status"], entry["amount"]) == ("o_paid", "PENDING", eur(450))
    assert (entry["reversedAmount"], entry["netAmount"], entry["orderTotal"]) == (eur(0), eur(450), eur(4500))
    assert entry["earnedAt"] is not None
    assert totals(call, partner) == {"pending": 450, "approved": 0, "paid": 0, "reversed": 0}
    # And CommissionEarned is on the bus
    [earned] = [e for e in world.published() if e["detail-type"] == "CommissionEarned"]
    assert earned["source"] == "storekeeper.affiliates"
    assert earned["detail"]["eventId"] == "CommissionEarned#o_paid"
    assert earned["detail"]["data"]["amount"] == eur(450)
    assert earned["detail"]["data"]["affiliateId"] == partner.affiliate_id


def test_commissions_round_half_down(call: Call, deliver: Deliver, approved_affiliate: Approve) -> None:
    # Given a 12.5 % affiliate: 12.5 % of 1.00 is exactly 12.5 cents, of 1.01 is 12.625 cents
    partner = approved_affiliate(rate=0.125)
    deliver(paid(snapshot("o_half", total=100, code=partner.code)))
    deliver(paid(snapshot("o_more", total=101, code=partner.code)))
    # Then the exact half goes down and the rest to the nearest cent
    assert {e["orderId"]: e["amount"]["amount"] for e in ledger(call, partner)} == {"o_half": 12, "o_more": 13}


def test_the_same_event_twice_is_one_ledger_entry(
    world: AffiliatesWorld, call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given a paid order's commission, and a partial refund already applied
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_twice", total=10_000, code=partner.code)
    deliver(paid(order))
    refund = refunded(order, "r_1", 2_500, 2_500)
    assert deliver(refund)["outcome"] == "recorded"
    # When EventBridge delivers both events again
    again = [deliver(paid(order)), deliver(refund)]
    # Then nothing changes: one entry, reversed once, totals as before
    assert [a["outcome"] for a in again] == ["unchanged", "duplicate"]
    assert len(world.commission_items()) == 1
    [entry] = ledger(call, partner)
    assert (entry["amount"], entry["reversedAmount"], entry["status"]) == (eur(1000), eur(250), "PENDING")
    assert totals(call, partner) == {"pending": 750, "approved": 0, "paid": 0, "reversed": 250}


def test_a_full_refund_reverses_the_commission(call: Call, deliver: Deliver, approved_affiliate: Approve) -> None:
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_full", total=3_333, code=partner.code)
    deliver(paid(order))
    deliver(refunded(order, "r_all", 3_333, 3_333))
    [entry] = ledger(call, partner)
    assert (entry["status"], entry["amount"], entry["reversedAmount"], entry["netAmount"]) == (
        "REVERSED",
        eur(333),
        eur(333),
        eur(0),
    )
    assert entry["reversedAt"] is not None
    assert totals(call, partner) == {"pending": 0, "approved": 0, "paid": 0, "reversed": 333}


def test_partial_refunds_reverse_proportionally_and_add_up_to_the_whole(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given a 10 % commission of 10.00 on a 100.00 order
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_parts", total=10_000, code=partner.code)
    deliver(paid(order))
    # When 30.00 is refunded, then 33.33, then the rest
    steps = []
    for refund_id, amount, so_far in (("r_a", 3_000, 3_000), ("r_b", 3_333, 6_333), ("r_c", 3_667, 10_000)):
        deliver(refunded(order, refund_id, amount, so_far))
        [entry] = ledger(call, partner)
        steps.append((entry["reversedAmount"]["amount"], entry["status"]))
    # Then each reverses its share of the cumulative refund, and the last exactly what is left
    assert steps == [(300, "PENDING"), (633, "PENDING"), (1_000, "REVERSED")]
    assert totals(call, partner) == {"pending": 0, "approved": 0, "paid": 0, "reversed": 1_000}


def test_a_refund_before_the_payment_event_is_neither_lost_nor_counted_twice(
    world: AffiliatesWorld, call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given the bus delivers a partial refund before the order's OrderPaid
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_late", total=8_000, code=partner.code)
    assert deliver(refunded(order, "r_early", 2_000, 2_000))["outcome"] == "recorded"
    # When the OrderPaid arrives
    late = deliver(paid(order))
    # Then there is one commission of 8.00 with 2.00 reversed, whichever came first
    assert late["outcome"] == "unchanged"
    assert len(world.commission_items()) == 1
    [entry] = ledger(call, partner)
    assert (entry["amount"], entry["reversedAmount"], entry["status"]) == (eur(800), eur(200), "PENDING")
    assert totals(call, partner) == {"pending": 600, "approved": 0, "paid": 0, "reversed": 200}


def test_a_paid_order_cancelled_before_shipment_is_reversed(
    call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    partner = approved_affiliate(rate=0.05)
    order = snapshot("o_cancel", total=2_000, code=partner.code)
    deliver(paid(order))
    assert deliver(cancelled(order, refunded_total=2_000))["outcome"] == "recorded"
    [entry] = ledger(call, partner)
    assert (entry["status"], entry["reversedAmount"]) == ("REVERSED", eur(100))
    # And an order cancelled before payment earned nothing and records nothing
    unpaid = snapshot("o_unpaid", total=2_000, code=partner.code, status="CANCELLED")
    assert deliver(cancelled(unpaid, refunded_total=0)) == {"outcome": "ignored", "reason": "cancelled before payment"}
    assert [e["orderId"] for e in ledger(call, partner)] == ["o_cancel"]


def test_orders_without_an_approved_affiliate_record_nothing(
    world: AffiliatesWorld, call: Call, deliver: Deliver, approved_affiliate: Approve, new_user: Callable[..., Any]
) -> None:
    # Given an approved affiliate and a user who applied but was never approved
    partner = approved_affiliate(rate=0.10)
    pending_code = call(
        "POST",
        "/affiliates",
        user=new_user("wait@example.com"),
        body={"name": "Waiting", "website": "https://wait.example.com", "payoutEmail": "w@wait.example"},
    ).body["code"]
    world.published()
    # When orders arrive with an unknown code, a pending affiliate's code, no code, and the affiliate's own order
    outcomes = [
        deliver(paid(snapshot("o_unknown", total=5_000, code="NOSUCHCODE"))),
        deliver(refunded(snapshot("o_unknown", total=5_000, code="NOSUCHCODE"), "r_x", 5_000, 5_000)),
        deliver(paid(snapshot("o_pending", total=5_000, code=pending_code))),
        deliver(paid(snapshot("o_nocode", total=5_000, code=None))),
        deliver(paid(snapshot("o_self", total=5_000, code=partner.code, customer_id=partner.user.sub))),
    ]
    # Then each is ignored without an error, and nothing is written or announced
    assert [o["reason"] for o in outcomes] == [
        "unknown affiliate code",
        "unknown affiliate code",
        "affiliate not approved",
        "no affiliate code",
        "self-referral",
    ]
    assert world.commission_items() == []
    assert not [i for i in world.items() if i["PK"]["S"].startswith("EVENT#")]
    assert world.published() == []
    assert totals(call, partner) == {"pending": 0, "approved": 0, "paid": 0, "reversed": 0}


def test_an_order_placed_before_approval_earns_nothing(deliver: Deliver, approved_affiliate: Approve) -> None:
    partner = approved_affiliate(rate=0.10)
    before = snapshot("o_early", total=5_000, code=partner.code, placed_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert deliver(paid(before))["reason"] == "order placed before the affiliate was approved"


def test_the_approval_job_moves_only_commissions_past_the_refund_window(
    call: Call, deliver: Deliver, approved_affiliate: Approve, run_approval: Callable[[datetime], dict[str, Any]]
) -> None:
    # Given commissions earned at T0 and 20 days later, and one earned at T0 but fully refunded
    partner = approved_affiliate(rate=0.10)
    deliver(paid(snapshot("o_old", total=1_000, code=partner.code), at=T0))
    deliver(paid(snapshot("o_new", total=2_000, code=partner.code), at=T0 + days(20)))
    gone = snapshot("o_gone", total=3_000, code=partner.code)
    deliver(paid(gone, at=T0))
    deliver(refunded(gone, "r_gone", 3_000, 3_000))
    # When the job runs 29 days after T0, nothing is old enough
    assert run_approval(T0 + days(29)) == {"approved": []}
    # When it runs 31 days after T0
    result = run_approval(T0 + days(31))
    # Then only the old PENDING one is APPROVED, and the totals follow
    assert result == {"approved": ["o_old"]}
    assert {e["orderId"]: e["status"] for e in ledger(call, partner)} == {
        "o_old": "APPROVED",
        "o_new": "PENDING",
        "o_gone": "REVERSED",
    }
    assert totals(call, partner) == {"pending": 200, "approved": 100, "paid": 0, "reversed": 300}
    # And running it again approves nothing more
    assert run_approval(T0 + days(31)) == {"approved": []}


def test_a_payout_pays_approved_commissions_once(
    call: Call, deliver: Deliver, approved_affiliate: Approve, run_approval: Callable[[datetime], dict[str, Any]]
) -> None:
    # Given two approved commissions (one partly refunded) and one still pending
    partner = approved_affiliate(rate=0.10)
    first = snapshot("o_one", total=10_000, code=partner.code)
    deliver(paid(first, at=T0))
    deliver(refunded(first, "r_one", 1_000, 1_000))
    deliver(paid(snapshot("o_two", total=5_000, code=partner.code), at=T0))
    deliver(paid(snapshot("o_three", total=7_000, code=partner.code), at=T0 + days(25)))
    run_approval(T0 + days(31))
    path = f"/affiliates/{partner.affiliate_id}/payouts"
    # When an admin pays out, and retries with the same key
    payout = call("POST", path, groups=["admin"], headers={"Idempotency-Key": "payout-2030-02"})
    retry = call("POST", path, groups=["admin"], headers={"Idempotency-Key": "payout-2030-02"})
    # Then the approved net (9.00 + 5.00) is paid once, and the retry answers the same payout
    assert payout.status == 200, payout.body
    assert (payout.body["total"], payout.body["commissionCount"]) == (eur(1_400), 2)
    assert retry.body == payout.body
    assert (payout.headers.get("Idempotent-Replayed"), retry.headers.get("Idempotent-Replayed")) == (None, "true")
    statuses = {e["orderId"]: (e["status"], e["payoutId"]) for e in ledger(call, partner)}
    assert statuses == {
        "o_one": ("PAID", payout.body["payoutId"]),
        "o_two": ("PAID", payout.body["payoutId"]),
        "o_three": ("PENDING", None),
    }
    assert totals(call, partner) == {"pending": 700, "approved": 0, "paid": 1_400, "reversed": 100}
    # And a new payout without a key finds nothing left to pay
    empty = call("POST", path, groups=["admin"])
    assert (empty.status, empty.body["total"], empty.body["commissionCount"]) == (200, eur(0), 0)
    assert empty.body["payoutId"] != payout.body["payoutId"]


def test_commissions_page_newest_order_first(call: Call, deliver: Deliver, approved_affiliate: Approve) -> None:
    partner = approved_affiliate(rate=0.10)
    for n in range(5):
        deliver(paid(snapshot(f"o_{n:02d}", total=1_000 + n, code=partner.code)))
    pages, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"], query=query)
        pages.append([e["orderId"] for e in answer.body["items"]])
        cursor = answer.body["nextCursor"]
        if cursor is None:
            break
    assert [o for page in pages for o in page] == ["o_04", "o_03", "o_02", "o_01", "o_00"]
    # A cursor of another affiliate's ledger is refused
    other = approved_affiliate(rate=0.10)
    first = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"], query={"limit": 2})
    stolen = call(
        "GET",
        "/affiliates/me/commissions",
        user=other.user,
        groups=["affiliate"],
        query={"cursor": first.body["nextCursor"]},
    )
    assert stolen.status == 400


def test_the_sample_events_run(world: AffiliatesWorld, deliver: Deliver, lambda_context: Any) -> None:
    """`events/jobs/*commission*` stay true: each runs through its handler (no affiliate owns the
    sample's code here, so the order events are ignored rather than failing)."""
    samples = Path(__file__).resolve().parents[3] / "events" / "jobs"
    for name in ("commission_order_paid", "commission_order_refunded", "commission_order_cancelled"):
        event = json.loads((samples / f"{name}.json").read_text())
        assert deliver(event) == {"outcome": "ignored", "reason": "unknown affiliate code"}, name
    schedule = json.loads((samples / "approve_commissions.json").read_text())
    assert jobs.approve_handler(schedule, lambda_context) == {"approved": []}


class InterleavingStore(AffiliatesStore):
    """The real store, except that just before its first ledger write another event of the same order is
    applied: the write then finds the commission moved under it, as with two Lambdas racing."""

    def __init__(self, table: str, meanwhile: Callable[[], object]) -> None:
        super().__init__(table)
        self.meanwhile: Callable[[], object] | None = meanwhile
        self.attempts = 0

    def apply_event(self, event_id: str, before: Commission | None, after: Commission, now: datetime) -> None:
        self.attempts += 1
        if self.meanwhile is not None:
            racing, self.meanwhile = self.meanwhile, None
            racing()
        super().apply_event(event_id, before, after, now)


def test_two_refunds_racing_on_one_commission_both_count(
    world: AffiliatesWorld, call: Call, deliver: Deliver, approved_affiliate: Approve
) -> None:
    # Given a commission of 10.00, and two refunds of 20.00 and 30.00 handled at the same moment
    partner = approved_affiliate(rate=0.10)
    order = snapshot("o_race", total=10_000, code=partner.code)
    deliver(paid(order))
    first, second = refunded(order, "r_1", 2_000, 2_000), refunded(order, "r_2", 3_000, 5_000)

    def envelope(event: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": event["detail"]["eventId"], "occurred_at": datetime.now(UTC)}

    def refund_of(event: dict[str, Any]) -> OrderRefunded:
        return OrderRefunded.model_validate(event["detail"]["data"])

    publish = FakePublisher()
    plain = AffiliatesStore(world.table)
    racing = InterleavingStore(
        world.table, lambda: logic.on_order_refunded(plain, publish, refund_of(second), **envelope(second))
    )
    # When the first one's write comes second
    result = logic.on_order_refunded(racing, publish, refund_of(first), **envelope(first))
    # Then it re-reads and applies on top: half of the order refunded reverses half the commission
    assert result.outcome is logic.Outcome.RECORDED
    assert racing.attempts == 2
    [entry] = ledger(call, partner)
    assert (entry["reversedAmount"], entry["status"]) == (eur(500), "PENDING")
    assert totals(call, partner) == {"pending": 500, "approved": 0, "paid": 0, "reversed": 500}


class LaggingIndexStore(AffiliatesStore):
    """The real store, except that GSI1 lags behind the table as it may on AWS (GSIs are eventually
    consistent): for the whole payout it still answers the APPROVED partition as it was at the first
    query, so commissions already paid are listed again. Pages resume after the last order id, as a
    `LastEvaluatedKey` would."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.snapshot: list[Commission] | None = None
        self.queries = 0

    def approved_of(self, affiliate_id: str, *, start_key: Key | None, limit: int) -> Page[Commission]:
        self.queries += 1
        if self.snapshot is None:
            self.snapshot, key = [], None
            while True:
                page = super().approved_of(affiliate_id, start_key=key, limit=100)
                self.snapshot += page.items
                if page.next_key is None:
                    break
                key = page.next_key
        after = start_key["GSI1SK"]["S"] if start_key else ""
        rest = [c for c in self.snapshot if c.order_id > after]
        items = rest[:limit]
        more = len(rest) > limit
        return Page(items, {"GSI1SK": {"S": items[-1].order_id}} if more else None)


def test_a_payout_pays_every_page_even_when_the_index_lags(
    world: AffiliatesWorld,
    call: Call,
    deliver: Deliver,
    approved_affiliate: Approve,
    run_approval: Callable[[datetime], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given five approved commissions, read two a page, through an index that has not caught up with
    # the payout's own writes
    partner = approved_affiliate(rate=0.10)
    for n in range(5):
        deliver(paid(snapshot(f"o_{n}", total=1_000, code=partner.code), at=T0))
    run_approval(T0 + days(31))
    lagging = LaggingIndexStore(world.table)
    monkeypatch.setattr(logic, "PAYOUT_PAGE", 2)
    monkeypatch.setattr(api, "store", lambda: lagging)

    # When an admin pays out
    payout = call("POST", f"/affiliates/{partner.affiliate_id}/payouts", groups=["admin"])

    # Then every commission is paid, each read once (the loop followed the pages, not the stale index)
    assert payout.status == 200, payout.body
    assert (payout.body["total"], payout.body["commissionCount"]) == (eur(500), 5)
    assert {e["status"] for e in ledger(call, partner)} == {"PAID"}
    assert lagging.queries == 3
