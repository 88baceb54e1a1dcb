"""No secret and no personal data in any log line, on a stack of its own that logs at INFO (every
handler's Powertools JSON, the gateway's access lines) plus localstripe's own log.

The flow is the whole life of a paid order: a profile and an address, checkout with a full shipping
address, payment through localstripe, its webhook, the workflow to PAID, a refund (and its webhook);
then the customer exports and erases their data. Then every line of every log is searched for the
Stripe secret key, the webhook secret, each ID token (and its signature), the PaymentIntent's client
secret, and the address (its first line, and the customer's name)."""

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from local.aws import client
from local.stripe import SECRET_KEY
from tests.e2e.localstack import LocalStack, start, stop, wait_ready
from tests.e2e.shop import poll, stocked_sku, wait_status

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]

NAME = "Zebedee Quillfeather"
LINE1 = "77 Lanternmaker Wharf"
POSTAL_CODE = "20999"
JWT = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")
ADDRESS = {"name": NAME, "line1": LINE1, "city": "Hamburg", "postalCode": POSTAL_CODE, "country": "DE"}


@pytest.fixture(scope="module")
def loud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir: Path = tmp_path_factory.mktemp("loud-stack")
    process, log = start(state_dir, "--no-seed", quiet=False)
    try:
        yield LocalStack(wait_ready(process, log), state_dir, process, log)
    finally:
        stop(process)


def test_no_secret_or_address_reaches_a_log(loud: LocalStack) -> None:
    session = requests.Session()

    def call(method: str, path: str, *, token: str | None = None, **kwargs: object) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, loud.api + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    # Given a customer with a profile and an address, and a product on the shelf
    admin = loud.token("admin@example.com", "admin")
    customer = loud.token(f"privacy-{uuid.uuid4().hex[:8]}@example.com")
    assert call("PUT", "/me", token=customer, json={"name": NAME, "marketingConsent": True}).status_code == 200
    assert call("POST", "/me/addresses", token=customer, json=ADDRESS).status_code == 201
    _, sku = stocked_sku(call, admin, 3)

    # When they check out with the full address, pay, and staff refund part of the order
    placed = call(
        "POST",
        "/orders",
        token=customer,
        json={"items": [{"sku": sku, "quantity": 2}], "shippingAddress": ADDRESS},
        headers={"Idempotency-Key": f"privacy-{uuid.uuid4().hex}"},
    )
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["orderId"]
    awaiting = wait_status(call, customer, order_id, "AWAITING_PAYMENT")
    client_secret = awaiting["payment"]["clientSecret"]
    assert client_secret
    loud.cli("pay", order_id)
    wait_status(call, customer, order_id, "PAID", deadline=30)
    shipment = {"carrier": "DHL", "trackingNumber": "00340434161094042557"}
    assert call("POST", f"/orders/{order_id}/shipments", token=admin, json=shipment).status_code == 200
    refund = {"amount": {"amount": 1500, "currency": "EUR"}, "reason": "one arrived broken"}
    refunded = call("POST", f"/orders/{order_id}/refunds", token=admin, json=refund)
    assert refunded.status_code == 200, refunded.text
    wait_status(call, customer, order_id, "PARTIALLY_REFUNDED")
    # ...the customers domain has the order in its history (the events were consumed)
    poll(lambda: call("GET", "/me", token=customer).json()["summary"]["orderCount"], lambda n: n == 1, 30)

    # And then they take their data with them and erase it
    exported = call("GET", "/me/export", token=customer)
    assert exported.status_code == 200, exported.text
    assert exported.json()["addresses"][0]["line1"] == LINE1
    assert [o["orderId"] for o in exported.json()["orders"]] == [order_id]
    assert call("DELETE", "/me", token=customer).status_code == 204
    assert call("GET", "/me/addresses", token=customer).json()["items"] == []
    kept = call("GET", f"/orders/{order_id}", token=admin).json()
    assert LINE1 not in str(kept) and NAME not in str(kept)
    assert kept["total"] == awaiting["total"]

    # Then, once the stack has stopped (its logs flushed), no log line carries a secret or the address
    state = loud.state()
    webhook_secret = client("ssm", state["awsEndpoint"]).get_parameter(
        Name=f"/storekeeper/{state['stage']}/stripe/webhook-secret", WithDecryption=True
    )["Parameter"]["Value"]
    stop(loud.process)
    secrets = {
        "Stripe secret key": SECRET_KEY,
        "webhook secret": webhook_secret,
        "admin token": admin,
        "admin token signature": admin.rsplit(".", 1)[-1],
        "customer token": customer,
        "customer token signature": customer.rsplit(".", 1)[-1],
        "client secret": client_secret,
        "address line": LINE1,
        "customer name": NAME,
    }
    logs = sorted(loud.state_dir.rglob("*.log"))
    assert {p.name for p in logs} >= {"stack.log", "localstripe.log"}
    lines = [line for path in logs for line in path.read_text(errors="replace").splitlines()]
    assert sum('"level":"INFO"' in line for line in lines) > 10, "the stack did not log at INFO"
    leaks = [(what, line[:300]) for line in lines for what, value in secrets.items() if value in line]
    leaks += [("a JWT", line[:300]) for line in lines if JWT.search(line)]
    assert not leaks, "\n".join(f"{what}: {line}" for what, line in leaks[:20])
