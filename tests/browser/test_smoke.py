"""The two web apps start in a real browser against the local stack: the storefront lists products it
fetched cross-origin from the API (the CORS path), and the console signs the admin in through the
local user pool's own API (moto's Cognito, as Cognito on AWS) and shows its navigation."""

import re

from playwright.sync_api import Page, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack


def test_the_storefront_lists_products_fetched_from_the_api_across_origins(page: Page, web_stack: WebStack) -> None:
    # Given the storefront on its own origin, the API on another
    assert web_stack.web != web_stack.api
    cross_origin: list[str] = []
    page.on(
        "response",
        lambda r: (
            cross_origin.append(r.url)
            if r.url.startswith(web_stack.api) and r.request.method == "GET" and r.ok
            else None
        ),
    )

    # When a shopper opens it
    page.goto(web_stack.shop)

    # Then the catalog shows products, answered by the API to a browser on the web origin
    expect(page.get_by_test_id("product-card").first).to_be_visible()
    assert page.get_by_test_id("product-card").count() > 1
    assert any(re.search(r"/products(\?|$)", url) for url in cross_origin), cross_origin


def test_the_console_signs_the_admin_in_through_the_local_user_pool(page: Page, web_stack: WebStack) -> None:
    # Given the console and the demo admin
    page.goto(web_stack.console)

    # When the admin signs in with the demo password
    page.get_by_test_id("signin-email").fill("admin@example.com")
    page.get_by_test_id("signin-password").fill(DEMO_PASSWORD)
    with page.expect_response(lambda r: "InitiateAuth" in (r.request.headers.get("x-amz-target") or "")) as answer:
        page.get_by_test_id("signin-submit").click()

    # Then Cognito's JSON API answered the browser, and the console shows the admin's navigation
    assert answer.value.ok
    expect(page.get_by_test_id("console")).to_have_attribute("data-role", "admin")
    nav = page.get_by_test_id("admin-nav")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link")).not_to_have_count(0)
