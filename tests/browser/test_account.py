"""The storefront's account pages in a real browser: a new customer signs up through the local user
pool's own API (SignUp, ConfirmSignUp with the code step, then InitiateAuth), keeps an address that the
checkout then offers, and downloads their data as a JSON file; the visit beacon carries the landing
URL's UTM labels and `?ref=` code and keeps them for the checkout; an affiliate applies, is approved by
staff, and after signing in again (the group is in new tokens only) sees code, link, rate and figures."""

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, Request, Response, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack
from tests.e2e.shop import ADDRESS, Http, stocked_sku

PASSWORD = "Storekeeper-Shopper-2026"  # a throwaway account on a throwaway local stack
API_MS = 60_000  # an expectation that waits on the local stack's lambdas (a cold start on a busy machine)


def _cognito(action: str) -> Callable[[Response], bool]:
    """Matches the browser's call of one action of Cognito's JSON API (the local pool's, here)."""
    return lambda r: r.request.headers.get("x-amz-target", "").endswith(f".{action}")


def _sign_up(page: Page, web_stack: WebStack) -> str:
    email = f"shopper-{uuid.uuid4().hex[:12]}@example.com"
    page.goto(f"{web_stack.shop}#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(_cognito("SignUp"), timeout=API_MS) as signed_up:
        page.get_by_test_id("signup-submit").click()
    assert signed_up.value.ok
    # The pool verifies emails, so a code step follows; moto's pool mails nothing and takes any code.
    expect(page.get_by_test_id("confirm-local-hint")).to_be_visible(timeout=API_MS)
    page.get_by_label("Confirmation code").fill("123456")
    with page.expect_response(_cognito("InitiateAuth"), timeout=API_MS) as signed_in:
        page.get_by_test_id("confirm-submit").click()
    assert signed_in.value.ok
    expect(page.get_by_test_id("profile-email")).to_have_text(email, timeout=API_MS)
    return email


def test_a_new_customer_signs_up_keeps_an_address_the_checkout_offers_and_exports_their_data(
    page: Page, web_stack: WebStack, tmp_path: Path
) -> None:
    # Given a new customer, signed up and confirmed in the browser
    _sign_up(page, web_stack)

    # When they save a profile and an address
    page.get_by_test_id("profile-name").fill("Dana Shopper")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("profile-saved")).to_be_visible(timeout=API_MS)
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Addresses").click()
    expect(page.get_by_test_id("no-addresses")).to_be_visible(timeout=API_MS)
    form = page.get_by_test_id("address-form")
    form.get_by_label("Name").fill("Dana Shopper")
    form.get_by_label("Street and number").fill("Hafenstraße 12")
    form.get_by_label("Postal code").fill("20457")
    form.get_by_label("City").fill("Hamburg")
    form.get_by_label("Country code").fill("de")
    form.get_by_test_id("address-submit").click()

    # Then the address is listed as their default
    address = page.get_by_test_id("address")
    expect(address).to_have_count(1, timeout=API_MS)
    expect(address).to_contain_text("Hafenstraße 12")
    expect(address.get_by_test_id("address-default")).to_be_visible()
    address_id = address.get_attribute("data-address-id")
    assert address_id

    # And the checkout offers it
    page.goto(f"{web_stack.shop}#/")
    page.get_by_test_id("product-link").first.click()
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("added")).to_be_visible(timeout=API_MS)
    page.goto(f"{web_stack.shop}#/checkout")
    offered = page.locator(f'[data-testid="saved-address"][data-address-id="{address_id}"]')
    expect(offered).to_contain_text("Hafenstraße 12", timeout=API_MS)

    # And "Download my data" saves a JSON file with the profile and the address
    page.goto(f"{web_stack.shop}#/me")
    with page.expect_download(timeout=API_MS) as downloading:
        page.get_by_test_id("export-data").click()
    download = downloading.value
    assert re.fullmatch(r"storekeeper-export-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    exported: dict[str, Any] = json.loads(saved.read_text(encoding="utf-8"))
    assert exported["profile"]["name"] == "Dana Shopper"
    assert [a["addressId"] for a in exported["addresses"]] == [address_id]


def test_bob_signs_in_and_comes_back_to_the_page_he_asked_for(page: Page, web_stack: WebStack) -> None:
    # Given bob, signed out, opening his orders
    page.goto(f"{web_stack.shop}#/me/orders")
    page.get_by_test_id("signin-needed").get_by_role("link", name="sign in").click()

    # When he signs in with the demo password
    page.get_by_test_id("signin-email").fill("bob@example.com")
    page.get_by_test_id("signin-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("signin-submit").click()

    # Then he is back on his orders, which the API answered for him
    expect(page).to_have_url(re.compile(r"#/me/orders$"), timeout=API_MS)
    expect(page.get_by_test_id("my-orders").or_(page.get_by_test_id("no-orders"))).to_be_visible(timeout=API_MS)


def _is_visit(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/analytics/visits")


def test_the_visit_beacon_carries_the_landing_urls_utm_labels_and_referral_code(
    page: Page, web_stack: WebStack
) -> None:
    # Given a campaign link with an affiliate's code
    landing = f"{web_stack.shop}?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale&ref=FRIEND42#/"

    # When a shopper follows it, then opens a product
    with page.expect_request(_is_visit, timeout=API_MS) as first:
        page.goto(landing)
    expect(page.get_by_test_id("product-link").first).to_be_visible(timeout=API_MS)
    with page.expect_request(_is_visit, timeout=API_MS) as second:
        page.get_by_test_id("product-link").first.click()

    # Then the landing visit is the affiliate's click, with the labels and the browser's ids
    landed: dict[str, Any] = first.value.post_data_json or {}
    assert landed["path"] == "/"
    assert (landed["source"], landed["medium"], landed["campaign"]) == ("newsletter", "email", "winter-sale")
    assert landed["ref"] == "FRIEND42"
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", landed["sessionId"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", landed["visitorId"])
    answered = first.value.response()
    assert answered is not None and answered.ok

    # And the next visit keeps the labels and ids, names the product, and is no second click
    moved: dict[str, Any] = second.value.post_data_json or {}
    assert re.fullmatch(r"/products/p_[0-9a-z]{26}", moved["path"])
    assert moved["productId"] == moved["path"].split("/")[-1]
    assert moved["ref"] is None
    assert moved["source"] == "newsletter"
    assert (moved["sessionId"], moved["visitorId"]) == (landed["sessionId"], landed["visitorId"])

    # And the checkout finds the code, the labels and the visitor where the beacon kept them
    kept = page.evaluate(
        "() => [localStorage.getItem('storekeeper.ref'), localStorage.getItem('storekeeper.utm'),"
        " localStorage.getItem('storekeeper.visitor')]"
    )
    assert kept[0] == "FRIEND42"
    assert json.loads(kept[1]) == {"source": "newsletter", "medium": "email", "campaign": "winter-sale"}
    assert kept[2] == landed["visitorId"]


def _is_application(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/affiliates")


# Applying asks `GET /affiliates/me` first, which answers 404 to a customer who never applied: Chromium
# logs every 4xx fetch as a console error.
@pytest.mark.parametrize("allowed_console_errors", [[r"status of 404"]])
def test_a_customer_applies_as_affiliate_and_after_approval_sees_the_dashboard(page: Page, web_stack: WebStack) -> None:
    # Given a new customer on the affiliate page
    email = _sign_up(page, web_stack)
    page.goto(f"{web_stack.shop}#/me/affiliate")

    # When they apply
    form = page.get_by_test_id("affiliate-apply-form")
    form.get_by_label("Your name or brand").fill("Dana's Deals")
    form.get_by_label("Website where you promote us").fill("https://deals.example.com")
    with page.expect_response(_is_application, timeout=API_MS) as applied:
        form.get_by_test_id("affiliate-apply").click()

    # Then the page shows the application waiting for staff
    assert applied.value.status == 201
    affiliate_id = applied.value.json()["affiliateId"]
    expect(page.get_by_test_id("affiliate-status")).to_contain_text("PENDING", timeout=API_MS)

    # When the admin approves it at 10 %
    admin = web_stack.token("admin@example.com", "admin")
    approved = requests.post(
        f"{web_stack.api}/affiliates/{affiliate_id}/approve",
        json={"commissionRate": 0.1},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=60,
    )
    assert approved.status_code == 200, approved.text

    # Then their old token (minted before they joined the group) gets a "sign in again", not a 403
    page.reload()
    expect(page.get_by_test_id("affiliate-status")).to_have_text("APPROVED", timeout=API_MS)
    page.get_by_test_id("affiliate-signin-again").get_by_role("button", name="Sign in again").click()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()

    # And signed in again they see their code, referral link, rate, commissions and daily figures
    expect(page).to_have_url(re.compile(r"#/me/affiliate$"), timeout=API_MS)
    code = page.get_by_test_id("affiliate-code").inner_text(timeout=API_MS)
    expect(page.get_by_test_id("affiliate-link")).to_have_value(re.compile(rf"[?&]ref={re.escape(code)}\b"))
    expect(page.get_by_test_id("affiliate-rate")).to_have_text("10%")
    expect(page.get_by_test_id("no-commissions")).to_be_visible(timeout=API_MS)
    expect(page.get_by_test_id("stats-total-clicks")).to_have_text("0", timeout=API_MS)


def _api(web_stack: WebStack) -> Http:
    """`http("POST", "/orders", token=..., json=...)` against the stack's API, as tests/e2e's fixture."""

    def call(method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, web_stack.api + path, headers=headers, timeout=60, **kwargs)

    return call


def test_a_customer_cancels_an_open_order_from_my_orders_and_sees_it_cancelled(page: Page, web_stack: WebStack) -> None:
    # Given a new customer with an order not paid yet
    _sign_up(page, web_stack)
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('storekeeper.session')).idToken")
    http = _api(web_stack)
    _, sku = stocked_sku(http, web_stack.token("admin@example.com", "admin"), units=3)
    methods = http("GET", "/shipping-methods", params={"country": ADDRESS["country"]}).json()["items"]
    body = {"items": [{"sku": sku, "quantity": 1}], "shippingAddress": ADDRESS}
    body["shippingMethodId"] = methods[0]["shippingMethodId"]  # the demo shop ships by method and country
    key = f"browser-{uuid.uuid4().hex}"
    placed = http("POST", "/orders", json=body, token=token, headers={"Idempotency-Key": key})
    assert placed.status_code in (201, 202), placed.text
    order_id = placed.json()["orderId"]

    # When they cancel it from their orders, saying yes when asked
    page.goto(f"{web_stack.shop}#/me/orders")
    row = page.locator(f'[data-testid="my-order"][data-order-id="{order_id}"]')
    row.get_by_test_id("my-order-cancel").click(timeout=API_MS)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/orders/{order_id}/cancel")) as asked:
        row.get_by_test_id("my-order-cancel-confirm").click()

    # Then the request carried an idempotency key, and the row follows the workflow to CANCELLED
    assert re.fullmatch(r"[A-Za-z0-9_.:-]{8,128}", asked.value.headers.get("idempotency-key", ""))
    expect(row.get_by_test_id("my-order-status")).to_have_text("CANCELLED", timeout=API_MS)
    expect(row.get_by_test_id("my-order-cancel")).to_have_count(0)
    assert http("GET", f"/orders/{order_id}", token=token).json()["status"] == "CANCELLED"
