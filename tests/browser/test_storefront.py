"""The shopper's journey in a real browser: search, two items in the cart priced by the API's quote
(tax and shipping), sign in, check out with a coupon, pay with the test card through Stripe.js (the local
stack's stand-in), and watch the order page follow the order to PAID; a declined card shows the failure,
the order is cancelled and its stock released."""

import time
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack

ORDER_DEADLINE_MS = 60_000  # stock held, PaymentIntent made, payment confirmed: seconds, polled by the page


def _coupon(web_stack: WebStack, percent: int) -> str:
    code = f"WEB{uuid.uuid4().hex[:8].upper()}"
    admin = web_stack.token("admin@example.com", "admin")
    created = requests.post(
        f"{web_stack.api}/coupons",
        json={"code": code, "type": "percent", "value": percent},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return code


def _available(web_stack: WebStack, sku: str) -> int:
    admin = web_stack.token("admin@example.com", "admin")
    answer = requests.get(f"{web_stack.api}/inventory/{sku}", headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    return int(answer.json()["available"])


def _add(page: Page, words: str, product: str) -> str:
    page.get_by_test_id("search-input").fill(words)
    page.get_by_test_id("search-submit").click()
    page.get_by_test_id("product-list").get_by_role("link", name=product).click()
    expect(page.get_by_test_id("product-name")).to_have_text(product)
    sku = page.get_by_test_id("variant").first.get_attribute("data-sku")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("added")).to_be_visible()
    assert sku
    return sku


def _sign_in_at_checkout(page: Page, email: str) -> None:
    page.get_by_test_id("checkout").click()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("place-order")).to_be_visible()
    if page.get_by_test_id("saved-address").count() == 0:
        page.get_by_test_id("address-name").fill("Alice Liddell")
        page.get_by_test_id("address-line1").fill("1 Harbour Street")
        page.get_by_test_id("address-city").fill("Hamburg")
        page.get_by_test_id("address-postalCode").fill("20457")
        page.get_by_test_id("address-country").select_option("DE")


def _type_card(page: Page, number: str) -> None:
    card = page.get_by_test_id("card-element")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("30")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("20457")


def test_a_shopper_buys_two_items_with_a_coupon_pays_by_card_and_sees_the_order_paid(
    page: Page, web_stack: WebStack
) -> None:
    # Given a coupon the shop runs
    code = _coupon(web_stack, 10)

    # When a shopper searches the shop and adds two items
    page.goto(web_stack.shop)
    _add(page, "skillet", "Cast Iron Skillet")
    _add(page, "knife", "Chef's Knife")
    expect(page.get_by_test_id("cart-count")).to_have_text("2")

    # Then the cart is priced by the API's quote: German tax included, shipping methods to choose from
    page.get_by_test_id("cart-link").click()
    expect(page.get_by_test_id("quote-line")).to_have_count(2)
    expect(page.get_by_test_id("country")).to_have_value("DE")
    expect(page.get_by_test_id("quote-tax")).not_to_have_text("€0.00")
    page.get_by_test_id("shipping-method").filter(has_text="Express").get_by_role("radio").check()
    expect(page.get_by_test_id("quote-shipping")).to_have_text("€9.90")

    # And the coupon is accepted with what it saves
    page.get_by_test_id("coupon-input").fill(code)
    page.get_by_test_id("coupon-apply").click()
    expect(page.get_by_test_id("coupon-feedback")).to_contain_text("you save")
    expect(page.get_by_test_id("quote-discount")).to_be_visible()
    total = page.get_by_test_id("quote-total").inner_text()

    # When she signs in, checks out and pays with the test card through Stripe.js
    _sign_in_at_checkout(page, "alice@example.com")
    expect(page.get_by_test_id("place-order")).to_contain_text(total)
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay")).to_be_enabled(timeout=ORDER_DEADLINE_MS)
    _type_card(page, "4242424242424242")
    page.get_by_test_id("pay").click()

    # Then the order page follows the order to PAID, with the coupon's discount and the tax
    expect(page.get_by_test_id("order-status")).to_have_text("PAID", timeout=ORDER_DEADLINE_MS)
    expect(page.get_by_test_id("order-line")).to_have_count(2)
    expect(page.get_by_test_id("order-total")).to_have_text(total)
    expect(page.get_by_test_id("order-discount")).to_be_visible()
    expect(page.get_by_test_id("order-tax-line").first).to_be_visible()
    expect(page.locator('[data-testid="timeline-step"][data-status="PAID"]')).to_have_attribute("data-reached", "true")
    expect(page.get_by_test_id("cart-count")).to_have_text("0")


@pytest.mark.parametrize("allowed_console_errors", [[r"status of 402"]])  # Stripe's answer to the declined card
def test_a_declined_card_shows_the_failure_and_the_stock_is_released(
    page: Page, web_stack: WebStack, allowed_console_errors: list[str]
) -> None:
    # Given a shopper with a pour-over set in the cart
    page.goto(web_stack.shop)
    sku = _add(page, "pour-over", "Pour-Over Coffee Set")
    before = _available(web_stack, sku)
    page.get_by_test_id("cart-link").click()
    page.get_by_test_id("shipping-method").filter(has_text="Standard").get_by_role("radio").check()

    # When she checks out and pays with a card that is declined
    _sign_in_at_checkout(page, "alice@example.com")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay")).to_be_enabled(timeout=ORDER_DEADLINE_MS)
    assert _available(web_stack, sku) == before - 1  # held while she pays
    _type_card(page, "4000000000000002")
    page.get_by_test_id("pay").click()

    # Then the failure is shown, the order is cancelled and its unit is back on sale
    expect(page.get_by_test_id("payment-error")).to_contain_text("declined")
    page.get_by_test_id("failed-order-link").click()
    expect(page.get_by_test_id("order-status")).to_have_text("CANCELLED", timeout=ORDER_DEADLINE_MS)
    expect(page.get_by_test_id("cart-count")).to_have_text("1")  # kept, to try again
    deadline = time.monotonic() + ORDER_DEADLINE_MS / 1000
    while _available(web_stack, sku) != before and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert _available(web_stack, sku) == before


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector`; fail if the keyboard cannot reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_checkout_is_possible_with_the_keyboard_alone(page: Page, web_stack: WebStack) -> None:
    # Given a shopper with a notebook in the cart, on the cart page
    page.goto(web_stack.shop)
    _add(page, "notebook", "Dot Grid Notebook")
    page.goto(f"{web_stack.shop}#/cart")
    expect(page.get_by_test_id("quote-line")).to_have_count(1)

    # When she picks the shipping, signs in, places the order and pays, by keyboard only
    _tab_to(page, 'input[name="shipping-method"]')
    page.keyboard.press("Space")
    expect(page.get_by_test_id("checkout")).to_be_enabled()
    _tab_to(page, '[data-testid="checkout"]')
    page.keyboard.press("Enter")
    _tab_to(page, '[data-testid="signin-email"]')
    page.keyboard.type("alice@example.com")
    _tab_to(page, '[data-testid="signin-password"]')
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("place-order")).to_be_visible()
    if page.get_by_test_id("saved-address").count() == 0:
        for field, value in [("name", "Alice Liddell"), ("line1", "1 Harbour Street"), ("city", "Hamburg")]:
            _tab_to(page, f'[data-testid="address-{field}"]')
            page.keyboard.type(value)
        _tab_to(page, '[data-testid="address-postalCode"]')
        page.keyboard.type("20457")
        _tab_to(page, '[data-testid="address-country"]')
        page.keyboard.type("DE")
    expect(page.get_by_test_id("place-order")).to_be_enabled()
    _tab_to(page, '[data-testid="place-order"]')
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("pay")).to_be_enabled(timeout=ORDER_DEADLINE_MS)
    _tab_to(page, '[data-testid="card-element"] input')
    page.keyboard.type("4242424242424242")  # the Element moves on to the next field by itself
    page.keyboard.type("12")
    page.keyboard.type("30")
    page.keyboard.type("123")
    page.keyboard.type("20457")
    _tab_to(page, '[data-testid="pay"]')
    page.keyboard.press("Enter")

    # Then the order is paid
    expect(page.get_by_test_id("order-status")).to_have_text("PAID", timeout=ORDER_DEADLINE_MS)
