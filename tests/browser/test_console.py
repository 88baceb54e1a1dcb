"""The console's first half in a real browser: the admin creates a product, stocks it, and ships and
refunds (by line) an order placed with it; support sees only what support may do."""

import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack
from tests.e2e.shop import ADDRESS, poll

ORDER_DEADLINE_S = 60.0  # checkout → payment → PAID runs the order workflow on the local stack
STOCK_DEADLINE_MS = 30_000  # a new product's stock record is written by an event handler just after it

Http = Callable[..., requests.Response]


@pytest.fixture
def http(web_stack: WebStack) -> Http:
    session = requests.Session()

    def call(method: str, path: str, *, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return session.request(method, web_stack.api + path, headers=headers, timeout=30, **kwargs)

    return call


@pytest.fixture
def allowed_console_errors() -> list[str]:
    """The stale save is refused with 412 on purpose; Chromium logs every failed fetch."""
    return [r"status of 412"]


def sign_in(page: Page, web_stack: WebStack, email: str, role: str) -> None:
    page.goto(web_stack.console)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("console")).to_have_attribute("data-role", role)


def paid_order(http: Http, web_stack: WebStack, skus: list[str]) -> str:
    """Alice orders one unit of each SKU through the API and pays with the test card; the order's id."""
    alice = web_stack.token("alice@example.com")
    methods = http("GET", "/shipping-methods", token=alice, params={"country": "DE"}).json()["items"]
    body: dict[str, Any] = {
        "items": [{"sku": sku, "quantity": 1} for sku in skus],
        "shippingAddress": ADDRESS,
    }
    if methods:
        body["shippingMethodId"] = methods[0]["shippingMethodId"]
    placed = http("POST", "/orders", token=alice, json=body, headers={"Idempotency-Key": f"console-{uuid.uuid4().hex}"})
    assert placed.status_code == 202, placed.text
    order_id = str(placed.json()["orderId"])

    def order() -> dict[str, Any]:
        return dict(http("GET", f"/orders/{order_id}", token=alice).json())

    poll(order, lambda o: o["status"] == "AWAITING_PAYMENT", ORDER_DEADLINE_S)
    web_stack.cli("pay", order_id)
    poll(order, lambda o: o["status"] == "PAID", ORDER_DEADLINE_S)
    return order_id


def test_the_admin_creates_stocks_ships_and_refunds_a_line(page: Page, web_stack: WebStack, http: Http) -> None:
    # Given the admin in the console and a SKU nobody used
    sign_in(page, web_stack, "admin@example.com", "admin")
    sku = f"LAMP-{secrets.token_hex(3).upper()}"

    # When they create a product with that variant
    page.get_by_test_id("nav-products").click()
    page.get_by_test_id("product-new").click()
    page.get_by_label("Name", exact=True).fill(f"Console Lamp {sku}")
    page.get_by_label("Description").fill("A desk lamp made in the console.")
    page.get_by_label("Category").fill("home")
    page.get_by_test_id("product-price").fill("24.50")
    page.get_by_test_id("variant-sku-0").fill(sku)
    page.get_by_test_id("variant-attributes-0").fill("colour=brass")
    page.get_by_test_id("product-save").click()

    # Then its own page shows it, with the variant at the product's price
    expect(page.get_by_test_id("product-title")).to_have_text(f"Console Lamp {sku}")
    expect(page.get_by_test_id("product-edit")).to_contain_text("24.50")
    product_id = page.url.split("#/products/")[1]

    # When they open the variant's stock (once the record exists) and restock 5
    page.get_by_role("link", name=sku).click()
    refresh = page.get_by_test_id("stock-refresh")
    deadline = time.monotonic() + STOCK_DEADLINE_MS / 1000
    while not page.get_by_test_id("adjust-form").is_visible():
        assert time.monotonic() < deadline, "the new SKU's stock never appeared"
        refresh.click()
        page.wait_for_load_state("networkidle")
    page.get_by_test_id("adjust-delta").fill("5")
    page.get_by_test_id("adjust-reason").select_option("restock")
    page.get_by_test_id("adjust-note").fill("first delivery")
    page.get_by_test_id("adjust-submit").click()

    # Then the level and the ledger show it, with who did it
    expect(page.get_by_test_id("stock-available")).to_have_text("5")
    expect(page.get_by_test_id("ledger-row").first).to_contain_text("+5")
    expect(page.get_by_test_id("ledger-row").first).to_contain_text("first delivery")

    # Given Alice paid an order of that lamp and a demo notebook
    order_id = paid_order(http, web_stack, [sku, "NOTEBOOK-BLACK"])

    # When the admin finds it among the paid orders and ships it
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id("order-status-filter").select_option("PAID")
    page.get_by_test_id("order-email-filter").fill("alice@example.com")
    page.get_by_test_id("order-search").click()
    expect(page).to_have_url(re.compile(r"#/orders\?status=PAID&email=alice%40example.com$"))
    page.get_by_test_id(f"order-row-{order_id}").get_by_role("link").click()
    expect(page.get_by_test_id("order-status")).to_have_text("PAID")
    expect(page.get_by_test_id(f"order-line-{sku}")).to_contain_text("24.50")
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label("Tracking number").fill(f"TRK{sku}")
    page.get_by_test_id("ship-submit").click()

    # Then the order is shipped, with the tracking number
    expect(page.get_by_test_id("order-status")).to_have_text("SHIPPED")
    expect(page.get_by_test_id("order-shipment")).to_contain_text(f"TRK{sku}")

    # When they refund the lamp's line (it came back), and not the notebook
    page.get_by_test_id(f"refund-qty-{sku}").fill("1")
    page.get_by_test_id("refund-restock").check()
    page.get_by_test_id("refund-reason").fill("arrived broken")
    page.get_by_test_id("refund-submit").click()

    # Then the refund lists that line only, the order is partly refunded, and the history says who
    expect(page.get_by_test_id("order-refund")).to_have_count(1)
    expect(page.get_by_test_id("order-refund")).to_contain_text(sku)
    expect(page.get_by_test_id("order-refund")).not_to_contain_text("NOTEBOOK-BLACK")
    expect(page.get_by_test_id("order-status")).to_have_text("PARTIALLY_REFUNDED")
    expect(page.get_by_test_id("order-history")).to_contain_text("admin@example.com")
    expect(page.get_by_test_id("refund-qty-NOTEBOOK-BLACK")).to_be_enabled()
    expect(page.get_by_test_id(f"refund-qty-{sku}")).to_be_disabled()

    # When a colleague renames the lamp (through the API) while the admin has it open, and the admin saves
    page.goto(f"{web_stack.console}#/products/{product_id}")
    expect(page.get_by_test_id("product-title")).to_have_text(f"Console Lamp {sku}")
    admin = web_stack.token("admin@example.com")
    current = http("GET", f"/products/{product_id}", token=admin).json()
    theirs = {key: current[key] for key in ("description", "category", "tags", "price", "images")}
    theirs["variants"] = [{"sku": v["sku"], "attributes": v["attributes"]} for v in current["variants"]]
    renamed = http("PUT", f"/products/{product_id}", token=admin, json={**theirs, "name": f"Colleague Lamp {sku}"})
    assert renamed.status_code == 200, renamed.text
    page.get_by_label("Name", exact=True).fill(f"My Lamp {sku}")
    page.get_by_test_id("product-save").click()

    # Then the colleague's edit is not overwritten (If-Match): the console says so and offers their version
    expect(page.get_by_test_id("product-stale")).to_be_visible()
    page.get_by_test_id("product-reload").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value(f"Colleague Lamp {sku}")

    # When the admin edits that version and saves
    page.get_by_label("Name", exact=True).fill(f"My Lamp {sku}")
    page.get_by_test_id("product-save").click()

    # Then it is saved as the next version
    expect(page.get_by_test_id("product-saved")).to_contain_text("Saved version")
    expect(page.get_by_test_id("product-title")).to_have_text(f"My Lamp {sku}")

    # When they archive it, confirming
    page.get_by_test_id("product-archive").click()
    page.get_by_test_id("product-archive-confirm").click()

    # Then the console goes back to the list, and the shop no longer has it
    expect(page.get_by_test_id("product-list")).to_be_visible()
    assert http("GET", f"/products/{product_id}", token=admin).status_code == 404


def test_support_sees_only_what_support_may_do(page: Page, web_stack: WebStack, http: Http) -> None:
    # Given a paid order, and support signed in to the console
    order_id = paid_order(http, web_stack, ["NOTEBOOK-BLACK"])
    sign_in(page, web_stack, "support@example.com", "support")

    # Then the nav offers orders, stock and customers, and none of the admin-only pages
    nav = page.get_by_test_id("admin-nav")
    for allowed in ("orders", "stock", "customers"):
        expect(nav.get_by_test_id(f"nav-{allowed}")).to_be_visible()
    for admin_only in ("products", "coupons", "affiliates", "pricing", "reports"):
        expect(nav.get_by_test_id(f"nav-{admin_only}")).to_have_count(0)

    # When they open an admin-only page by its address
    page.goto(f"{web_stack.console}#/products")

    # Then the console says it is not for their role, instead of a form the API would refuse
    expect(page.get_by_test_id("no-page")).to_contain_text("Your role cannot use this page")
    expect(page.get_by_test_id("product-form")).to_have_count(0)

    # When they open a SKU's stock
    page.goto(f"{web_stack.console}#/stock/NOTEBOOK-BLACK")

    # Then they read its level and ledger but get no form to change them
    expect(page.get_by_test_id("stock-available")).to_be_visible()
    expect(page.get_by_test_id("ledger")).to_be_visible()
    expect(page.get_by_test_id("adjust-form")).to_have_count(0)
    expect(page.get_by_test_id("threshold-form")).to_have_count(0)

    # When they open the paid order from the orders list
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id(f"order-row-{order_id}").get_by_role("link").click()

    # Then they may refund or cancel it (support's part), but not ship it (the admin's)
    expect(page.get_by_test_id("order-status")).to_have_text("PAID")
    expect(page.get_by_test_id("refund-form")).to_be_visible()
    expect(page.get_by_test_id("cancel-form")).to_be_visible()
    expect(page.get_by_test_id("ship-form")).to_have_count(0)
