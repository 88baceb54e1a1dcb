"""Hot coupons: a coupon's uses are counted in allowance shards (`COUPON#<code> / ALLOW#<n>`), so a crowd
checking out with one coupon writes no item they all share. Still never over the cap nor a customer's own
limit — on moto's server behind the AWS model (`local.dynamodb_model`: overlapping transactions on one
item cancel each other) and behind the serial one — a checkout that meets a used-up shard falls back to
one with uses left, and a cancelled order gives its use back to the shard it came from, once."""

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from common.auth import Caller
from common.dynamo import from_item
from common.errors import ServiceUnavailable, ValidationFailed
from local.aws import MotoServer, client
from orders import logic
from orders.coupons import MAX_SHARDS, Coupon, CouponIn
from orders.models import Order, OrderStatus
from orders.ports import Ports
from orders.store import OrdersStore
from tests.fakes import FakePublisher, FakeWorkflow
from tests.template import set_environment

from .conftest import CUSTOMER, OTHER_CUSTOMER, FakePricing, checkout_request, create_orders_table, raw_items, wired

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def aws_server() -> Iterator[MotoServer]:
    """moto's server behind the AWS model with AWS's own limits: a transaction holds its items for the
    prepare-to-commit window, and another one touching a held item is cancelled (`TransactionConflict`)."""
    moto = MotoServer(port=0, dynamodb_model="aws")
    moto.start()
    yield moto
    moto.stop()


@pytest.fixture
def aws_store(aws_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> OrdersStore:
    set_environment(monkeypatch)
    dynamodb = client("dynamodb", aws_server.endpoint)
    return OrdersStore(create_orders_table(dynamodb, f"orders-{uuid.uuid4().hex}"), client=dynamodb)


def _coupon(store: OrdersStore, code: str, **rules: object) -> Coupon:
    fields: dict[str, object] = {"code": code, "type": "percent", "value": 10, **rules}
    return logic.create_coupon(wired(store, clock=lambda: NOW), CouponIn.model_validate(fields))


def _checkout(store: OrdersStore, pricing: FakePricing, code: str, who: Caller, key: str) -> Order:
    request = checkout_request(("TEE-RED-M", 2), couponCode=code)
    ports = wired(store, pricing=pricing, workflow=FakeWorkflow(), publish=FakePublisher(), clock=lambda: NOW)
    return logic.checkout(ports, who, request, key)


def _outcome(attempt: Callable[[], Order]) -> str:
    """What a buyer saw: a discounted order, a coupon refusal by its rule, or a 503."""
    try:
        order = attempt()
    except ValidationFailed as refused:
        return str(refused.code)
    except ServiceUnavailable:
        return "503"
    return "discounted" if order.discount.amount > 0 else "full price"


def _allowances(store: OrdersStore, code: str) -> dict[int, dict[str, Any]]:
    """The coupon's allowance shards as stored, by shard number."""
    prefix = "ALLOW#"
    items = [from_item(raw) for raw in raw_items(store)]
    return {
        int(item["SK"].removeprefix(prefix)): item
        for item in items
        if item["PK"] == f"COUPON#{code}" and item["SK"].startswith(prefix)
    }


def _pin(store: OrdersStore, monkeypatch: pytest.MonkeyPatch, prefer: Callable[[Sequence[int]], int]) -> None:
    """Replace the random choice of a shard by `prefer` (given the shards a checkout may try)."""
    monkeypatch.setattr(store, "pick_shard", prefer)


def test_a_crowd_redeems_a_capped_coupon_exactly_to_its_cap_and_nobody_gets_a_503(
    aws_store: OrdersStore, pricing: FakePricing
) -> None:
    # Given a coupon for 40 uses, on DynamoDB as AWS serves it (transactions on one item cancel each other)
    store = aws_store
    coupon = _coupon(store, "FLASH40", maxRedemptions=40)
    buyers = 100
    go = threading.Barrier(buyers)

    def attempt(i: int) -> str:
        go.wait()
        return _outcome(lambda: _checkout(store, pricing, coupon.code, Caller(sub=f"buyer-{i}"), f"flash-{i}"))

    # When 100 customers check out with it at once
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        outcomes = Counter(pool.map(attempt, range(buyers)))

    # Then exactly 40 orders are discounted and the other 60 are told it is used up: no 503
    assert outcomes == {"discounted": 40, "coupon_exhausted": 60}
    read = store.get_coupon(coupon.code)
    assert read is not None and read.redemptions == 40
    # And the uses were counted over the coupon's shards, each within its own cap, all of them used
    shards = _allowances(store, coupon.code)
    assert len(shards) == MAX_SHARDS
    assert all(0 <= s["used"] == s["cap"] for s in shards.values())
    assert sum(s["cap"] for s in shards.values()) == 40


def test_a_crowd_never_passes_a_customers_own_limit(aws_store: OrdersStore, pricing: FakePricing) -> None:
    # Given a coupon for 15 uses, at most 2 per customer, on DynamoDB as AWS serves it
    store = aws_store
    coupon = _coupon(store, "TWICE15", maxRedemptions=15, maxPerCustomer=2)
    customers, tries = 10, 3
    go = threading.Barrier(customers)

    def customer(c: int) -> list[str]:
        who = Caller(sub=f"regular-{c}")
        go.wait()
        return [_outcome(partial(_checkout, store, pricing, coupon.code, who, f"twice-{c}-{t}")) for t in range(tries)]

    # When 10 customers each try three times, all at once
    with ThreadPoolExecutor(max_workers=customers) as pool:
        seen = list(pool.map(customer, range(customers)))

    # Then 15 orders are discounted, nobody has more than 2, and each refusal names its rule: no 503
    outcomes = Counter(outcome for answers in seen for outcome in answers)
    assert outcomes["discounted"] == 15
    assert set(outcomes) <= {"discounted", "coupon_exhausted", "coupon_used_by_customer"}
    assert all(answers.count("discounted") <= 2 for answers in seen)
    assert all(store.coupon_uses(coupon.code, f"regular-{c}") == seen[c].count("discounted") for c in range(10))
    assert sum(s["used"] for s in _allowances(store, coupon.code).values()) == 15


def test_one_customer_racing_themselves_gets_no_more_than_their_limit(
    server_store: OrdersStore, pricing: FakePricing
) -> None:
    # Given a coupon for 100 uses, at most 3 per customer (moto's server: requests applied one at a time)
    store = server_store
    coupon = _coupon(store, "THRICE", maxRedemptions=100, maxPerCustomer=3)
    tries = 20
    go = threading.Barrier(tries)

    def attempt(t: int) -> str:
        go.wait()
        return _outcome(lambda: _checkout(store, pricing, coupon.code, CUSTOMER, f"thrice-{t}"))

    # When one customer sends 20 checkouts with it at once
    with ThreadPoolExecutor(max_workers=tries) as pool:
        outcomes = Counter(pool.map(attempt, range(tries)))

    # Then 3 are discounted and 17 refused as used by them; the 3 uses sit in the coupon's shards
    assert outcomes == {"discounted": 3, "coupon_used_by_customer": 17}
    assert store.coupon_uses(coupon.code, CUSTOMER.sub) == 3
    assert sum(s["used"] for s in _allowances(store, coupon.code).values()) == 3


def test_a_checkout_on_a_used_up_shard_falls_back_to_one_with_uses_left(
    store: OrdersStore, pricing: FakePricing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a coupon for 32 uses (16 shards of 2), and checkouts that always try the first shard offered
    coupon = _coupon(store, "FALLBACK", maxRedemptions=32)
    _pin(store, monkeypatch, lambda shards: shards[0])

    # When 32 customers check out with it, one after another
    orders = [_checkout(store, pricing, coupon.code, Caller(sub=f"c-{i}"), f"fb-{i}") for i in range(32)]

    # Then every one is discounted: each met shard 0 used up after the first two and moved on
    assert all(order.discount.amount > 0 for order in orders)
    taken = [stored.coupon_shard for o in orders if (stored := store.get_order(o.order_id))]
    assert taken == [n for n in range(16) for _ in range(2)]
    assert all(s["used"] == s["cap"] == 2 for s in _allowances(store, coupon.code).values())
    # And the 33rd, with every shard used up, is told so by name
    assert _outcome(lambda: _checkout(store, pricing, coupon.code, Caller(sub="late"), "fb-late")) == "coupon_exhausted"


def test_a_fallback_finds_the_last_use_in_the_last_shard(
    store: OrdersStore, pricing: FakePricing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a coupon for 16 uses whose shards 0-14 are used up; checkouts try shard 0 first
    coupon = _coupon(store, "LASTONE", maxRedemptions=16)
    for n in range(15):
        store.client.update_item(
            TableName=store.table,
            Key={"PK": {"S": f"COUPON#{coupon.code}"}, "SK": {"S": f"ALLOW#{n}"}},
            UpdateExpression="SET #used = #cap",
            ExpressionAttributeNames={"#used": "used", "#cap": "cap"},
        )
    _pin(store, monkeypatch, lambda shards: 0 if 0 in shards else shards[-1])

    # When a customer checks out with it
    order = _checkout(store, pricing, coupon.code, CUSTOMER, "last-1")

    # Then the use comes from shard 15, the only one with a use left
    stored = store.get_order(order.order_id)
    assert stored is not None and stored.coupon_shard == 15
    assert order.discount.amount > 0


def _transactions(store: OrdersStore) -> list[set[tuple[str, str]]]:
    """Records the keys every TransactWriteItems of `store`'s client writes (as botocore sends it)."""
    seen: list[set[tuple[str, str]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys = set()
        for action in params["TransactItems"]:
            body = next(iter(action.values()))
            item = body.get("Key") or body["Item"]
            keys.add((item["PK"]["S"], item["SK"]["S"]))
        seen.append(keys)

    store.client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    return seen


@pytest.mark.parametrize("limit", [{"maxRedemptions": 1000}, {}], ids=["capped", "unlimited"])
def test_two_customers_checkouts_with_one_coupon_share_no_item(
    store: OrdersStore, pricing: FakePricing, monkeypatch: pytest.MonkeyPatch, limit: dict[str, int]
) -> None:
    # Given a coupon with thousands of uses (or no limit), and two customers whose random shards differ
    coupon = _coupon(store, "CROWD", maxPerCustomer=5, **limit)
    shard_of = iter([3, 11])
    _pin(store, monkeypatch, lambda _shards: next(shard_of))
    written = _transactions(store)

    # When each checks out with it
    first = _checkout(store, pricing, coupon.code, CUSTOMER, "crowd-1")
    second = _checkout(store, pricing, coupon.code, OTHER_CUSTOMER, "crowd-2")

    # Then their transactions write no item in common, and neither writes the coupon's own item
    assert len(written) == 2
    assert written[0] & written[1] == set()
    assert all((f"COUPON#{coupon.code}", "META") not in keys for keys in written)
    # And each took its use from its own shard, which the order records
    assert [
        (f"COUPON#{coupon.code}", "ALLOW#3") in written[0],
        (f"COUPON#{coupon.code}", "ALLOW#11") in written[1],
    ] == [
        True,
        True,
    ]
    stored = [store.get_order(o.order_id) for o in (first, second)]
    assert [o.coupon_shard if o else None for o in stored] == [3, 11]
    read = store.get_coupon(coupon.code)
    assert read is not None and read.redemptions == 2


@pytest.mark.parametrize("to", [OrderStatus.CANCELLED, OrderStatus.REJECTED])
def test_a_use_goes_back_to_its_own_shard_once(
    ports: Ports, store: OrdersStore, pricing: FakePricing, monkeypatch: pytest.MonkeyPatch, to: OrderStatus
) -> None:
    # Given an order that took its coupon use from shard 5 (and another order's use in shard 6)
    coupon = _coupon(store, "GIVEBACK", maxRedemptions=100, maxPerCustomer=1)
    shard_of = iter([5, 6])
    _pin(store, monkeypatch, lambda _shards: next(shard_of))
    order = _checkout(store, pricing, coupon.code, CUSTOMER, "give-1")
    _checkout(store, pricing, coupon.code, OTHER_CUSTOMER, "give-2")
    assert {n: s["used"] for n, s in _allowances(store, coupon.code).items() if s["used"]} == {5: 1, 6: 1}

    # When the order is cancelled (or rejected), twice: a retried step
    logic.transition(ports, order.order_id, to, reason="changed their mind")
    logic.transition(ports, order.order_id, to, reason="changed their mind")

    # Then shard 5 has its use back, once; shard 6 and the caps are untouched
    shards = _allowances(store, coupon.code)
    assert {n: s["used"] for n, s in shards.items() if s["used"]} == {6: 1}
    assert sum(s["cap"] for s in shards.values()) == 100
    read = store.get_coupon(coupon.code)
    assert read is not None and read.redemptions == 1
    assert store.coupon_uses(coupon.code, CUSTOMER.sub) == 0


def test_a_coupon_made_before_shards_still_counts_on_its_own_item(
    ports: Ports, store: OrdersStore, pricing: FakePricing
) -> None:
    # Given a coupon as stored before shards: no `shards`, its uses counted on its own item
    store.put_coupon(
        Coupon.model_validate({"code": "OLDONE", "type": "percent", "value": 10, "maxRedemptions": 1, "createdAt": NOW})
    )
    assert _allowances(store, "OLDONE") == {}

    # When one customer redeems its one use, and another tries
    order = _checkout(store, pricing, "OLDONE", CUSTOMER, "old-1")
    late = _outcome(lambda: _checkout(store, pricing, "OLDONE", OTHER_CUSTOMER, "old-2"))

    # Then the second is told it is used up, the use sits on the coupon's own item, the order names no shard
    assert late == "coupon_exhausted"
    stored = store.get_order(order.order_id)
    assert stored is not None and stored.coupon_shard is None
    read = store.get_coupon("OLDONE")
    assert read is not None and (read.shards, read.redemptions) == (None, 1)
    # And a cancellation gives it back there, so the other customer can use it
    logic.transition(ports, order.order_id, OrderStatus.CANCELLED, reason="changed their mind")
    read = store.get_coupon("OLDONE")
    assert read is not None and read.redemptions == 0
    assert _checkout(store, pricing, "OLDONE", OTHER_CUSTOMER, "old-3").discount.amount > 0


def test_a_page_of_coupons_shows_each_ones_uses_read_in_one_batch(store: OrdersStore, pricing: FakePricing) -> None:
    # Given three sharded coupons used 2, 1 and 0 times, and one made before shards used once
    for code in ("PAGE-A", "PAGE-B", "PAGE-C"):
        _coupon(store, code, maxRedemptions=50)
    store.put_coupon(Coupon.model_validate({"code": "PAGE-OLD", "type": "percent", "value": 5, "createdAt": NOW}))
    for code, buyer, key in [("PAGE-A", CUSTOMER, "a1"), ("PAGE-A", OTHER_CUSTOMER, "a2"), ("PAGE-B", CUSTOMER, "b1")]:
        _checkout(store, pricing, code, buyer, key)
    _checkout(store, pricing, "PAGE-OLD", OTHER_CUSTOMER, "old1")
    calls: list[str] = []
    store.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    # When staff list the coupons
    page = logic.list_coupons(wired(store), cursor=None, limit=10)[0]

    # Then each shows its own uses, summed over its shards
    assert {c.code: c.redemptions for c in page} == {"PAGE-A": 2, "PAGE-B": 1, "PAGE-C": 0, "PAGE-OLD": 1}
    # And the page's shards were read in one batch, not one query per coupon
    assert calls == ["Query", "BatchGetItem"]
