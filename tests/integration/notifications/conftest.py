"""Notifications against moto, in-process: its table and customers' table from `template.yaml`, SES with
the shop's domain verified, and the handler called with the events as EventBridge delivers them."""

import email
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from common.contracts import OrderedLine, OrderSnapshot, PaymentStatus, ShippingAddress
from common.events import DomainEvent, new_event
from common.money import Money
from notifications import adapters, jobs
from tests.tables import create_table
from tests.template import function_environment, load, set_environment

REGION = "eu-west-1"
FUNCTION = "NotificationsFunction"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def snapshot(order_id: str = "o_1", *, customer: str = "cust-1", **changes: Any) -> OrderSnapshot:
    line = OrderedLine(
        sku="TEE-M",
        product_id="p_tee",
        name="Tee",
        category="apparel",
        quantity=2,
        unit_price=eur(1500),
        line_total=eur(3000),
    )
    values: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer,
        "status": "PAID",
        "lines": [line],
        "subtotal": eur(3000),
        "discount": eur(0),
        "total": eur(3000),
        "refunded_total": eur(0),
        "email": "alice@example.com",
        "created_at": T0.isoformat(),
        "payment_status": PaymentStatus.PAID,
        "shipping_address": ShippingAddress(
            name="Alice Example", line1="1 Harbour Street", city="Hamburg", postal_code="20457", country="DE"
        ),
    }
    return OrderSnapshot(**(values | changes))


def order_event(detail_type: str, order: OrderSnapshot) -> DomainEvent:
    return new_event(detail_type, f"{detail_type}#{order.order_id}", order)


def bus_event(event: DomainEvent, source: str = "storekeeper.orders") -> dict[str, Any]:
    """The event as EventBridge hands it to the function (each delivery its own `id`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event.detail_type,
        "source": source,
        "account": DEFAULT_ACCOUNT_ID,
        "time": T0.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": event.envelope.model_dump(mode="json", by_alias=True),
    }


@dataclass
class World:
    environment: dict[str, str]
    dynamodb: Any
    lambda_context: Any

    @property
    def table(self) -> str:
        return self.environment["NOTIFICATIONS_TABLE"]

    @property
    def customers_table(self) -> str:
        return self.environment["CUSTOMERS_TABLE"]

    def deliver(self, event: DomainEvent, source: str = "storekeeper.orders") -> dict[str, Any]:
        answer: dict[str, Any] = jobs.events_handler(bus_event(event, source), self.lambda_context)
        return answer

    def sent(self) -> list[EmailMessage]:
        from moto.ses.models import ses_backends

        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Iterator[World]:
    _, resolver = load()
    environment = function_environment(resolver, FUNCTION)
    set_environment(monkeypatch, environment)
    adapters.sesv2_client.cache_clear()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb, "NotificationsTable", resolver)
        create_table(dynamodb, "CustomersTable", resolver)
        boto3.client("sesv2", region_name=REGION).create_email_identity(
            EmailIdentity=environment["SHOP_SENDER_EMAIL"].rsplit("@", 1)[1]
        )
        yield World(environment, dynamodb, lambda_context)
    adapters.sesv2_client.cache_clear()
