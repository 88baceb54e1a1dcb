"""Accessibility (issue 15): axe-core, run in real Chromium on each main page of both web apps, finds no
violation of impact "serious" or "critical".

axe comes from `web/node_modules` (a pinned devDependency), injected from disk: no request to a CDN. The
pages are walked in one browser context per app (one sign-in each), waiting for each page's content
before axe looks at it; every page's violations are collected and the test fails once, naming them all.
Nothing is excluded: the card form's fields (localstripe's stand-in for Stripe.js here) pass as they are.
"""

from dataclasses import dataclass, field
from typing import TypedDict

import pytest
from playwright.sync_api import Locator, Page, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack
from tests.e2e.localstack import ROOT

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
ORDER_DEADLINE_MS = 60_000  # stock held and PaymentIntent made before the card form appears

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


class Violation(TypedDict):
    """One axe rule broken on a page, as RUN_AXE hands it back."""

    id: str
    impact: str | None
    help: str
    helpUrl: str
    targets: list[str]


@dataclass
class Audit:
    """Runs axe on the page as it is now and keeps the blocking violations, page by page."""

    page: Page
    found: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, name: str, ready: Locator) -> None:
        expect(ready.first).to_be_visible()
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        violations: list[Violation] = self.page.evaluate(RUN_AXE)
        self.pages.append(name)
        for v in violations:
            if v["impact"] in BLOCKING:
                self.found.append(
                    f"{name}: {v['id']} ({v['impact']}) {v['help']} — {v['helpUrl']}\n"
                    + "".join(f"    {t}\n" for t in v["targets"])
                )

    def assert_clean(self) -> None:
        assert not self.found, f"axe found serious or critical violations on {self.pages}:\n" + "".join(self.found)


@pytest.fixture(scope="session", autouse=True)
def axe_installed() -> None:
    if not AXE.is_file():
        pytest.fail(f"no {AXE}: run `cd web && npm ci` (make web does)", pytrace=False)


@pytest.mark.parametrize("allowed_console_errors", [[r"status of 404 .*/affiliates/me\b"]])  # alice is no affiliate
def test_the_storefront_pages_have_no_serious_accessibility_violation(page: Page, web_stack: WebStack) -> None:
    # Given an audit of the storefront, walked as a shopper walks it
    audit = Audit(page)
    by_id = page.get_by_test_id

    # When a guest browses the catalog, opens a product and puts it in the cart
    page.goto(web_stack.shop)
    audit.check("catalog", by_id("product-card"))
    by_id("product-link").first.click()
    audit.check("product", by_id("product-name"))
    by_id("add-to-cart").click()
    expect(by_id("added")).to_be_visible()
    page.goto(f"{web_stack.shop}#/cart")
    audit.check("cart", by_id("quote-line"))
    by_id("shipping-method").first.get_by_role("radio").check()

    # And signs in as alice at the checkout, then places the order and reaches the card form
    page.goto(f"{web_stack.shop}#/signin")
    audit.check("sign-in", by_id("signin-form"))
    page.goto(f"{web_stack.shop}#/checkout")
    by_id("signin-email").fill("alice@example.com")
    by_id("signin-password").fill(DEMO_PASSWORD)
    by_id("signin-submit").click()
    audit.check("checkout", by_id("place-order"))
    if by_id("saved-address").count() == 0:
        by_id("address-name").fill("Alice Liddell")
        by_id("address-line1").fill("1 Harbour Street")
        by_id("address-city").fill("Hamburg")
        by_id("address-postalCode").fill("20457")
        by_id("address-country").select_option("DE")
    expect(by_id("place-order")).to_be_enabled()
    by_id("place-order").click()
    expect(by_id("pay")).to_be_enabled(timeout=ORDER_DEADLINE_MS)
    audit.check("checkout payment", by_id("card-element"))

    # And opens her account pages and an order
    page.goto(f"{web_stack.shop}#/me")
    audit.check("my profile", by_id("profile"))
    page.goto(f"{web_stack.shop}#/me/orders")
    audit.check("my orders", by_id("my-order"))
    by_id("my-order-link").first.click()
    audit.check("order", by_id("order-status"))
    for sub, ready in {
        "addresses": '[data-testid="addresses"], [data-testid="no-addresses"]',
        "offers": '[data-testid="offers"], [data-testid="no-offers"]',
        "affiliate": '[data-testid="affiliate-apply-form"], [data-testid="affiliate-account"]',
    }.items():
        page.goto(f"{web_stack.shop}#/me/{sub}")
        audit.check(f"my {sub}", page.locator(ready))

    # Then axe found nothing serious or critical on any of them
    audit.assert_clean()


def test_the_console_pages_have_no_serious_accessibility_violation(page: Page, web_stack: WebStack) -> None:
    # Given an audit of the console, starting at its sign-in form
    audit = Audit(page)
    by_id = page.get_by_test_id
    page.goto(web_stack.console)
    audit.check("console sign-in", by_id("signin-form"))

    # When the admin signs in and opens each page of the navigation
    by_id("signin-email").fill("admin@example.com")
    by_id("signin-password").fill(DEMO_PASSWORD)
    by_id("signin-submit").click()
    expect(by_id("console")).to_have_attribute("data-role", "admin")
    audit.check("orders", by_id("order-list").locator("tbody tr"))
    page.locator('[data-testid^="order-row-"] a').first.click()
    audit.check("order detail", by_id("order-detail"))
    pages = {
        "products": "product-list",
        "stock": "stock-list",
        "customers": "customer-search",
        "coupons": "coupon-list",
        "affiliates": "affiliate-list",
        "pricing": "shipping-list",
        "reports": "sales-report",
    }
    for name, ready in pages.items():
        page.goto(f"{web_stack.console}#/{name}")
        audit.check(name, by_id(ready))
    page.goto(f"{web_stack.console}#/customers")
    by_id("customer-search").fill("alice")
    by_id("customer-search").press("Enter")
    by_id("customer-result").first.click()
    audit.check("customer support view", by_id("support-view"))

    # Then axe found nothing serious or critical on any of them
    audit.assert_clean()
