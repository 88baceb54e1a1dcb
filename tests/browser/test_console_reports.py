"""The console's second half in a real browser: the admin reads the reports (the sales chart drawn as
inline SVG), runs a report now and downloads its file, creates a coupon and ends it, sets a tax rate,
keeps the shipping methods and approves an affiliate at a rate; support finds a customer and adds a
note, and sees none of the admin-only pages."""

import secrets

import requests
from playwright.sync_api import Page, expect

from local.cognito import DEMO_PASSWORD
from tests.browser.conftest import WebStack

RUN_DEADLINE_MS = 90_000  # a report run is queued, run by its own function, then stored
HTTP_TIMEOUT_S = 30


def sign_in(page: Page, web_stack: WebStack, email: str, role: str) -> None:
    page.goto(web_stack.console)
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("console")).to_have_attribute("data-role", role)


def test_the_admin_reads_the_sales_chart_and_downloads_a_report_run_now(page: Page, web_stack: WebStack) -> None:
    # Given the admin in the console
    sign_in(page, web_stack, "admin@example.com", "admin")

    # When they open the reports
    page.get_by_test_id("nav-reports").click()

    # Then the sales over time are drawn as a chart, one bar per day of the last 30, beside the totals
    chart = page.get_by_test_id("sales-chart")
    expect(chart.locator("svg[role=img]")).to_be_visible()
    expect(chart.get_by_test_id("sales-chart-bar")).to_have_count(30)
    expect(page.get_by_test_id("sales-total")).to_contain_text("orders")
    expect(page.get_by_test_id("payments-total")).to_contain_text("the shop keeps")

    # When they run the daily report now
    page.get_by_test_id("run-start").click()

    # Then the run is followed until done, and its file downloads through the API's signed redirect
    expect(page.get_by_test_id("run-state")).to_have_text("DONE", timeout=RUN_DEADLINE_MS)
    first_file = page.get_by_test_id("run-file").first
    expect(first_file).to_be_visible()
    with page.expect_download() as download:
        first_file.click()
    assert download.value.suggested_filename
    assert download.value.path().stat().st_size > 0


def test_the_admin_creates_a_coupon_ends_it_and_sets_a_tax_rate(page: Page, web_stack: WebStack) -> None:
    # Given the admin in the console and a code nobody used
    sign_in(page, web_stack, "admin@example.com", "admin")
    code = f"W3B{secrets.token_hex(3).upper()}"

    # When they create a 15 % coupon for books
    page.get_by_test_id("nav-coupons").click()
    page.get_by_test_id("coupon-code").fill(code)
    page.get_by_test_id("coupon-value").fill("15")
    page.get_by_label("Categories, comma separated").fill("books")
    page.get_by_test_id("coupon-create").click()

    # Then it is listed, and its own page shows it unredeemed
    expect(page.get_by_test_id("coupon-created")).to_contain_text(code)
    row = page.get_by_test_id(f"coupon-row-{code}")
    expect(row).to_contain_text("15 %")
    row.get_by_role("link", name=code).click()
    expect(page.get_by_test_id("coupon-redemptions")).to_contain_text("0")

    # When they end it now, confirming
    page.get_by_test_id("coupon-end").click()
    page.get_by_test_id("coupon-end-confirm").click()

    # Then the page shows it over, offers no second end, and a quote with it is refused as expired
    expect(page.get_by_test_id("coupon-validity")).to_contain_text("over")
    expect(page.get_by_test_id("coupon-end")).to_have_count(0)
    quote = requests.post(
        f"{web_stack.api}/quotes",
        json={"items": [{"sku": "NOTEBOOK-BLACK", "quantity": 1}], "country": "DE", "couponCode": code},
        timeout=HTTP_TIMEOUT_S,
    )
    assert quote.status_code == 200, quote.text
    assert quote.json()["coupon"]["reason"] == "coupon_expired", quote.json()

    # When they set Austria's rates, reduced for books
    page.get_by_test_id("nav-pricing").click()
    page.get_by_test_id("tax-country").fill("AT")
    page.get_by_test_id("tax-standard").fill("20")
    page.get_by_test_id("tax-categories").fill("books=10")
    page.get_by_test_id("tax-save").click()

    # Then the list shows them as the API now holds them
    expect(page.get_by_test_id("tax-saved")).to_be_visible()
    expect(page.get_by_test_id("tax-row-AT")).to_contain_text("20 %")
    expect(page.get_by_test_id("tax-row-AT")).to_contain_text("books 10 %")


def test_support_finds_a_customer_and_adds_a_note_but_sees_no_admin_page(page: Page, web_stack: WebStack) -> None:
    # Given support in the console
    sign_in(page, web_stack, "support@example.com", "support")
    nav = page.get_by_test_id("admin-nav")
    expect(nav.get_by_test_id("nav-customers")).to_be_visible()
    for admin_only in ("coupons", "affiliates", "pricing", "reports"):
        expect(nav.get_by_test_id(f"nav-{admin_only}")).to_have_count(0)

    # When they search for a demo customer by the first letters of her name and open her
    page.get_by_test_id("nav-customers").click()
    page.get_by_test_id("customer-search").fill("ali")
    page.get_by_test_id("customer-result").first.click()
    expect(page.get_by_test_id("customer-email")).to_have_text("alice@example.com")

    # And add a note
    note = f"Called about a late parcel ({secrets.token_hex(3)})"
    page.get_by_test_id("note-text").fill(note)
    page.get_by_test_id("note-add").click()

    # Then the note is on her support view, signed by its author
    added = page.get_by_test_id("customer-note").filter(has_text=note)
    expect(added).to_contain_text("you")

    # And an admin-only page opened by its address says the role cannot use it
    page.goto(f"{web_stack.console}#/reports")
    expect(page.get_by_test_id("no-page")).to_contain_text("cannot use")


def test_the_admin_creates_edits_and_archives_a_shipping_method(page: Page, web_stack: WebStack) -> None:
    # Given the admin on the pricing page
    sign_in(page, web_stack, "admin@example.com", "admin")
    page.get_by_test_id("nav-pricing").click()
    name = f"Courier {secrets.token_hex(3)}"

    # When they create a shipping method for Austria and Switzerland
    form = page.get_by_test_id("shipping-form")
    form.get_by_test_id("shipping-name").fill(name)
    form.get_by_test_id("shipping-countries").fill("AT, CH")
    form.get_by_test_id("shipping-price").fill("7.50")
    form.get_by_test_id("shipping-save").click()

    # Then it is listed with its countries
    row = page.get_by_test_id("shipping-list").locator("tr", has_text=name)
    expect(row).to_contain_text("AT, CH")

    # When they raise its price
    row.get_by_test_id("shipping-edit").click()
    expect(form).to_contain_text(f"Edit {name}")
    form.get_by_test_id("shipping-price").fill("8.90")
    form.get_by_test_id("shipping-save").click()

    # Then the list shows the new price
    expect(row).to_contain_text("8.90")

    # When they archive it
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("shipping-archive").click()

    # Then it serves nobody and leaves the list of active methods
    expect(row).to_have_count(0)


def test_the_admin_approves_an_application_at_a_rate(page: Page, web_stack: WebStack) -> None:
    # Given a shopper who applied to become an affiliate
    applicant = web_stack.token(f"w3b-{secrets.token_hex(4)}@example.com")
    name = f"Blog {secrets.token_hex(3)}"
    applied = requests.post(
        f"{web_stack.api}/affiliates",
        json={"name": name, "website": "https://blog.example.com", "payoutEmail": "pay@example.com"},
        headers={"Authorization": f"Bearer {applicant}"},
        timeout=HTTP_TIMEOUT_S,
    )
    assert applied.status_code == 201, applied.text
    affiliate_id = applied.json()["affiliateId"]

    # When the admin approves it at 12.5 %
    sign_in(page, web_stack, "admin@example.com", "admin")
    page.get_by_test_id("nav-affiliates").click()
    row = page.get_by_test_id(f"affiliate-row-{affiliate_id}")
    expect(row).to_contain_text("PENDING")
    row.get_by_test_id("affiliate-rate").fill("12.5")
    row.get_by_test_id("affiliate-approve").click()

    # Then it is approved at that rate, with nothing to pay out yet
    expect(row).to_contain_text("APPROVED")
    expect(row).to_contain_text("12.5 %")
    expect(row.get_by_test_id("affiliate-payout")).to_be_disabled()
