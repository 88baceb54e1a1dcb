"""Win-back deals: customers whose last paid order is older than the period get one single-use
coupon per lapse, and an email only if they consented to marketing."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from customers import jobs

from .conftest import T0, World, line, paid

Event = Callable[..., dict[str, Any]]
DAYS = 60


def run(world: World, days_later: float) -> dict[str, Any]:
    """The daily schedule's invocation, `days_later` after T0."""
    event = {
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "now": (T0 + timedelta(days=days_later)).isoformat(),
    }
    return jobs.win_back_handler(event, world.context)


def given_customers(world: World, api_event: Event) -> None:
    """Ada (consents) and Bob (does not) last ordered at T0; Cy ordered 30 days later."""
    for sub, consent in (("ada", True), ("bob", False)):
        world.call(api_event("PUT", "/me", sub=sub, body={"name": sub.title(), "marketingConsent": consent}))
        paid(world, f"o_{sub}", sub, line("p1"), created_at=T0)
    paid(world, "o_cy", "cy", line("p1"), created_at=T0 + timedelta(days=30))


def test_lapsed_customers_get_one_coupon_and_only_consenting_ones_an_email(world: World, api_event: Event) -> None:
    given_customers(world, api_event)
    # When the job runs before anyone lapsed
    assert run(world, DAYS - 1)["issued"] == 0
    # And on the day after Ada and Bob lapsed
    result = run(world, DAYS + 1)
    # Then both got a single-use coupon of their own; Cy (ordered later) got none
    assert result == {"examined": 2, "issued": 2, "emailed": 1}
    coupons = {request.customer_ids[0]: request for request in world.coupons.issued.values()}
    assert set(coupons) == {"ada", "bob"}
    ada = coupons["ada"]
    assert (ada.type, ada.value, ada.max_redemptions, ada.max_per_customer) == ("percent", 15, 1, 1)
    assert ada.code.startswith("WB-") and ada.valid_until.startswith("2030-05-31")
    # And only Ada, who consented, was emailed her code, from the shop's sender
    (mail,) = world.sent_mail()
    assert mail["to"] == ["someone@example.com"] and mail["source"] == "shop@example.com"
    assert ada.code in mail["body"]


def test_a_retried_or_repeated_run_issues_nothing_twice(world: World, api_event: Event) -> None:
    given_customers(world, api_event)
    run(world, DAYS + 1)
    # When the schedule is retried the same day, and runs again on the following days
    again = [run(world, DAYS + 1), run(world, DAYS + 2), run(world, DAYS + 5)]
    # Then no coupon and no email came twice
    assert [r["issued"] for r in again] == [0, 0, 0]
    assert [r["emailed"] for r in again] == [0, 0, 0]
    assert len(world.coupons.issued) == 2 and world.coupons.calls == 2
    assert len(world.sent_mail()) == 1


def test_a_run_that_failed_midway_is_completed_by_the_retry(world: World, api_event: Event) -> None:
    given_customers(world, api_event)
    # Given orders' coupon function fails once
    world.coupons.fail_next = True
    # When the run fails, then is retried
    with pytest.raises(RuntimeError):
        run(world, DAYS + 1)
    retried = run(world, DAYS + 1)
    # Then the retry issued what was missing, and both customers end with one coupon each, Ada one email
    assert retried["issued"] == 2
    assert len(world.coupons.issued) == 2
    assert len(world.sent_mail()) == 1


def test_a_missed_day_is_caught_up(world: World, api_event: Event) -> None:
    given_customers(world, api_event)
    # When the job did not run for three days after the lapse
    result = run(world, DAYS + 3)
    # Then the lapsed customers are found anyway
    assert result["issued"] == 2


def test_a_customer_who_ordered_again_and_lapsed_again_gets_a_new_deal(world: World, api_event: Event) -> None:
    given_customers(world, api_event)
    run(world, DAYS + 1)
    # Given Ada orders again at day 70, then lapses again
    paid(world, "o_ada_2", "ada", line("p2"), created_at=T0 + timedelta(days=70))
    result = run(world, 70 + DAYS + 1)
    # Then she alone gets a second, different coupon
    assert result["issued"] == 1
    codes = [r.code for r in world.coupons.issued.values() if r.customer_ids == ["ada"]]
    assert len(codes) == 2 and codes[0] != codes[1]
