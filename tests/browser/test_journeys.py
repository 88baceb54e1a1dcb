"""Journeys across both web apps, each person in a browser context of their own: the shopper watches her
order page while the admin ships and refunds it in the console, and support adds a note without seeing
an admin's action; an affiliate's link, followed by another shopper who buys, earns a commission on the
affiliate's dashboard. Last, proof that the `page` fixture's request guard fails a test that calls out."""

import os
import re
import secrets
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from tests.browser.conftest import PageLog, WebStack, guard
from tests.browser.test_account import PASSWORD, _sign_up
from tests.browser.test_console import sign_in as console_sign_in
from tests.browser.test_storefront import _add, _sign_in_at_checkout, _type_card
from tests.e2e.localstack import ROOT

ORDER_DEADLINE_MS = 60_000  # checkout → payment → PAID runs the order workflow on the local stack
COMMISSION_DEADLINE_S = 90.0  # OrderPaid → the affiliates' event handler → the dashboard's next read

OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser, web_stack: WebStack, page_log: PageLog, page: Page) -> Iterator[OpenPage]:
    """Another person's page, in a context of its own, held to the same request guard and console log as
    `page` (whose teardown judges them all, after these contexts are closed)."""
    contexts: list[BrowserContext] = []

    def open_(**options: object) -> Page:
        context = guard(browser, web_stack, page_log, **options)
        contexts.append(context)
        return context.pages[0]

    try:
        yield open_
    finally:
        for context in contexts:
            context.close()


def _buy_and_pay(shop: Page, web_stack: WebStack, email: str, searches: list[tuple[str, str]], url: str = "") -> str:
    """In the storefront: add each (search words, product) to the cart, check out as `email` with standard
    shipping, pay with the test card, and wait for PAID; the order's id."""
    shop.goto(url or web_stack.shop)
    skus = [_add(shop, words, product) for words, product in searches]
    shop.get_by_test_id("cart-link").click()
    expect(shop.get_by_test_id("quote-line")).to_have_count(len(skus))
    shop.get_by_test_id("shipping-method").filter(has_text="Standard").get_by_role("radio").check()
    _sign_in_at_checkout(shop, email)
    shop.get_by_test_id("place-order").click()
    expect(shop.get_by_test_id("pay")).to_be_enabled(timeout=ORDER_DEADLINE_MS)
    _type_card(shop, "4242424242424242")
    shop.get_by_test_id("pay").click()
    expect(shop.get_by_test_id("order-status")).to_have_text("PAID", timeout=ORDER_DEADLINE_MS)
    matched = re.search(r"#/orders/([^/?]+)", shop.url)
    assert matched, shop.url
    return matched.group(1)


def test_the_shopper_sees_her_order_shipped_by_the_admin_who_refunds_a_line_and_support_adds_a_note(
    page: Page, web_stack: WebStack, open_page: OpenPage
) -> None:
    # Given Alice bought a skillet and a knife in the storefront, and keeps her order page open
    shop = page
    items = [("skillet", "Cast Iron Skillet"), ("knife", "Chef's Knife")]
    order_id = _buy_and_pay(shop, web_stack, "alice@example.com", items)
    skillet = shop.get_by_test_id("order-line").filter(has_text="Cast Iron Skillet")
    expect(skillet).to_have_count(1)

    # When the admin, in the console, opens that order and ships it
    console = open_page()
    console_sign_in(console, web_stack, "admin@example.com", "admin")
    console.goto(f"{web_stack.console}#/orders/{order_id}")
    expect(console.get_by_test_id("order-status")).to_have_text("PAID")
    tracking = f"TRK{secrets.token_hex(4).upper()}"
    console.get_by_label("Carrier").fill("DHL")
    console.get_by_label("Tracking number").fill(tracking)
    console.get_by_test_id("ship-submit").click()
    expect(console.get_by_test_id("order-status")).to_have_text("SHIPPED")

    # Then Alice's open page, following the order, shows it shipped without a reload
    expect(shop.get_by_test_id("order-status")).to_have_text("SHIPPED", timeout=ORDER_DEADLINE_MS)

    # When the admin refunds the skillet's line only
    lines = console.locator('[data-testid^="order-line-"]')
    skillet_line = lines.filter(has_text="Cast Iron Skillet").first.get_attribute("data-testid")
    assert skillet_line
    sku = skillet_line.removeprefix("order-line-")
    console.get_by_test_id(f"refund-qty-{sku}").fill("1")
    console.get_by_test_id("refund-reason").fill("arrived cracked")
    console.get_by_test_id("refund-submit").click()

    # Then the console shows that refund, of that line, and the order partly refunded
    expect(console.get_by_test_id("order-refund")).to_have_count(1)
    expect(console.get_by_test_id("order-refund")).to_contain_text(sku)
    expect(console.get_by_test_id("order-status")).to_have_text("PARTIALLY_REFUNDED")
    expect(console.get_by_test_id(f"refund-qty-{sku}")).to_be_disabled()

    # When support, in a third context, opens Alice and adds a note
    support = open_page()
    console_sign_in(support, web_stack, "support@example.com", "support")
    nav = support.get_by_test_id("admin-nav")
    for admin_only in ("products", "coupons", "affiliates", "pricing", "reports"):
        expect(nav.get_by_test_id(f"nav-{admin_only}")).to_have_count(0)
    nav.get_by_test_id("nav-customers").click()
    support.get_by_test_id("customer-search").fill("alice")
    support.get_by_test_id("customer-result").first.click()
    expect(support.get_by_test_id("customer-email")).to_have_text("alice@example.com")
    note = f"Skillet refunded, asked about a replacement ({secrets.token_hex(3)})"
    support.get_by_test_id("note-text").fill(note)
    support.get_by_test_id("note-add").click()

    # Then the note is on her view, signed by support
    expect(support.get_by_test_id("customer-note").filter(has_text=note)).to_contain_text("you")

    # And the order, opened from her view, offers support no admin-only action
    support.get_by_test_id("customer-orders").get_by_role("link", name=order_id).click()
    expect(support.get_by_test_id("order-status")).to_have_text("PARTIALLY_REFUNDED")
    expect(support.get_by_test_id("order-refund")).to_contain_text(sku)
    expect(support.get_by_test_id("ship-form")).to_have_count(0)
    expect(support.get_by_test_id("ship-submit")).to_have_count(0)
    expect(support.get_by_test_id("adjust-form")).to_have_count(0)


def _is_application(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/affiliates")


# Applying asks `GET /affiliates/me` first, which answers 404 to a customer who never applied: Chromium
# logs every 4xx fetch as a console error.
@pytest.mark.parametrize("allowed_console_errors", [[r"status of 404"]])
def test_a_purchase_through_an_affiliates_link_shows_a_commission_on_their_dashboard(
    page: Page, web_stack: WebStack, open_page: OpenPage, allowed_console_errors: list[str]
) -> None:
    # Given a new customer who applies as an affiliate in the storefront
    affiliate = page
    email = _sign_up(affiliate, web_stack)
    affiliate.goto(f"{web_stack.shop}#/me/affiliate")
    form = affiliate.get_by_test_id("affiliate-apply-form")
    form.get_by_label("Your name or brand").fill(f"Kitchen Notes {secrets.token_hex(3)}")
    form.get_by_label("Website where you promote us").fill("https://kitchen-notes.example.com")
    with affiliate.expect_response(_is_application, timeout=ORDER_DEADLINE_MS) as applied:
        form.get_by_test_id("affiliate-apply").click()
    assert applied.value.status == 201
    affiliate_id = applied.value.json()["affiliateId"]

    # When the admin approves the application at 10 % in the console
    console = open_page()
    console_sign_in(console, web_stack, "admin@example.com", "admin")
    console.get_by_test_id("nav-affiliates").click()
    row = console.get_by_test_id(f"affiliate-row-{affiliate_id}")
    row.get_by_test_id("affiliate-rate").fill("10")
    row.get_by_test_id("affiliate-approve").click()
    expect(row).to_contain_text("APPROVED")

    # And the affiliate signs in again (the group is in new tokens only) and copies the referral link
    affiliate.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_stack.web)
    affiliate.reload()
    affiliate.get_by_test_id("affiliate-signin-again").get_by_role("button", name="Sign in again").click()
    affiliate.get_by_test_id("signin-email").fill(email)
    affiliate.get_by_test_id("signin-password").fill(PASSWORD)
    affiliate.get_by_test_id("signin-submit").click()
    expect(affiliate.get_by_test_id("no-commissions")).to_be_visible(timeout=ORDER_DEADLINE_MS)
    code = affiliate.get_by_test_id("affiliate-code").inner_text()
    affiliate.get_by_test_id("affiliate-copy").click()
    expect(affiliate.get_by_test_id("affiliate-copy")).to_have_text("Copied")
    link = str(affiliate.evaluate("() => navigator.clipboard.readText()"))
    assert link == f"{web_stack.shop}?ref={code}", link  # the shop this stack serves, not a placeholder

    # When a shopper in a fresh context opens the shop through that link, buys a notebook and pays
    shopper = open_page()
    order_id = _buy_and_pay(shopper, web_stack, "bob@example.com", [("notebook", "Dot Grid Notebook")], url=link)

    # Then the affiliate's dashboard shows a commission for that order (written by the OrderPaid handler)
    commission = affiliate.locator(f'[data-testid="commission"][data-order-id="{order_id}"]')
    deadline = time.monotonic() + COMMISSION_DEADLINE_S
    while commission.count() == 0:
        assert time.monotonic() < deadline, f"no commission for {order_id} within {COMMISSION_DEADLINE_S:.0f} s"
        affiliate.reload()
        expect(affiliate.get_by_test_id("affiliate-commissions")).to_be_visible()
        affiliate.wait_for_load_state("networkidle")
    expect(commission.get_by_test_id("commission-amount")).not_to_have_text(re.compile(r"^\D*0[.,]00\D*$"))
    expect(commission).to_contain_text("10%")
    expect(affiliate.get_by_test_id("affiliate-total-pending")).not_to_have_text(re.compile(r"^\D*0[.,]00\D*$"))


GUARDED = '''
import pytest
from tests.browser.conftest import *  # noqa: F403 — the real fixtures, `page` and its guard included


class Stack:
    """No local stack: a page that only loads HTML it is given, so its one origin is this made-up one."""

    web = "http://127.0.0.1:9"

    def allowed_origins(self):
        return {self.web}


@pytest.fixture(scope="session")
def web_stack():
    return Stack()
'''

CALLS_OUT = """
def test_stays_home(page):
    page.set_content("<p>home</p>")


def test_calls_out(page):
    page.set_content("<p>home</p>")
    assert page.evaluate("fetch('http://198.51.100.7/track').then(() => 'sent', () => 'blocked')") == "blocked"
"""


def test_the_page_guard_fails_a_test_whose_page_calls_another_origin(chromium: Path, tmp_path: Path) -> None:
    # Given two tests on the real `page` fixture: one stays on its origin, one fetches from another
    (tmp_path / "conftest.py").write_text(textwrap.dedent(GUARDED), encoding="utf-8")
    (tmp_path / "test_guarded.py").write_text(textwrap.dedent(CALLS_OUT), encoding="utf-8")

    # When pytest runs them (in a process of its own: Playwright's sync API runs once per thread)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHROMIUM_PATH": str(chromium)}
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = ran.stdout + ran.stderr

    # Then the request was blocked, and the test that made it fails at teardown, naming the address
    assert ran.returncode == 1, out
    assert re.search(r"ERROR at teardown of test_calls_out", out), out
    assert "requests outside the local stack: ['http://198.51.100.7/track']" in out, out
    assert re.search(r"\b2 passed, 1 error\b", out), out
