"""Payments against moto, in-process. The table comes from `template.yaml`'s `PaymentsTable` and the
webhook function's environment from its `PaymentsWebhookFunction`, so tests and template cannot drift.
Stripe is a fake of our own `Gateway` port (or localstripe, where a test says so); the workflow's
callbacks are a fake of our `Callbacks` port."""

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from common.invoke import lambda_client
from common.money import Money
from common.workflow import sfn_client
from local.stripe import sign
from local.template import Resolver, Template
from payments import gateway as gateway_module
from payments import webhook
from payments.errors import PaymentProviderUnavailable
from payments.store import PaymentsStore
from tests.bus import BusObserver
from tests.fakes import FakeCallbacks
from tests.proxy import Answer
from tests.tables import create_table, scan
from tests.template import function_environment, load

REGION = "eu-west-1"
STAGE = "test"
WEBHOOK_FUNCTION = "PaymentsWebhookFunction"
WEBHOOK_SECRET = "whsec_test_current"


def clear_parameter_cache() -> None:
    """Forget SSM values Powertools cached (for five minutes): as a cold start, or five minutes passing."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture(autouse=True)
def _fresh_payment_caches() -> Iterator[None]:
    """Step Functions and Lambda clients, SSM values and Stripe clients are cached per process."""
    caches = (sfn_client, lambda_client, gateway_module._client)
    for cached in caches:
        cached.cache_clear()
    clear_parameter_cache()
    yield
    for cached in caches:
        cached.cache_clear()
    clear_parameter_cache()


def _template() -> tuple[Template, Resolver]:
    return load(STAGE)


def create_payments_table(dynamodb: Any, name: str | None = None) -> str:
    """Create the template's PaymentsTable (keys, attributes, billing) under its local name, or `name`."""
    return create_table(dynamodb, "PaymentsTable", _template()[1], name=name)


def webhook_environment() -> dict[str, str]:
    """PaymentsWebhookFunction's variables (Globals included) as the template resolves them."""
    return function_environment(_template()[1], WEBHOOK_FUNCTION)


# ---------------------------------------------------------------- fakes of our own ports


@dataclass
class FakeGateway:
    """Our `Gateway` port, behaving as Stripe does where the logic relies on it: a create or refund
    under an idempotency key Stripe has seen answers the first result again, and a PaymentIntent that
    succeeded cannot be cancelled (None). `calls` counts every call; `unavailable` makes every call
    raise `PaymentProviderUnavailable`; `on_create` runs once inside the next create (a race)."""

    unavailable: bool = False
    on_create: Callable[[str], None] | None = None
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    _intent_of_key: dict[str, str] = field(default_factory=dict)

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.unavailable:
            raise PaymentProviderUnavailable("Stripe is unreachable (fake)")

    def new_intent(self, order_id: str, amount: Money) -> dict[str, Any]:
        """A PaymentIntent made outside the logic's calls (under no key the logic uses)."""
        intent_id = f"pi_fake_{len(self.intents) + 1}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "client_secret": f"{intent_id}_secret_fake",
            "status": "requires_payment_method",
            "metadata": {"orderId": order_id},
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def succeed(self, intent_id: str) -> None:
        """The customer paid (what Stripe does when the browser confirms)."""
        self.intents[intent_id]["status"] = "succeeded"

    def create_intent(
        self, order_id: str, amount: Money, customer_id: str | None, *, stripe_customer_id: str | None = None
    ) -> dict[str, Any]:
        self._call("create_intent")
        if self.on_create is not None:
            hook, self.on_create = self.on_create, None
            hook(order_id)
        key = f"order-{order_id}"  # the key StripeGateway sends
        if key in self._intent_of_key:
            return dict(self.intents[self._intent_of_key[key]])
        intent = self.new_intent(order_id, amount)
        self._intent_of_key[key] = intent["id"]
        return intent

    def retrieve_intent(self, payment_intent_id: str) -> dict[str, Any]:
        self._call("retrieve_intent")
        return dict(self.intents[payment_intent_id])

    def cancel_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        self._call("cancel_intent")
        intent = self.intents[payment_intent_id]
        if intent["status"] == "succeeded":
            return None
        intent["status"] = "canceled"
        return dict(intent)

    def refund(self, payment_intent_id: str, amount: int | None, refund_key: str, order_id: str) -> dict[str, Any]:
        self._call("refund")
        if refund_key in self.refunds:
            return dict(self.refunds[refund_key])
        made = {
            "id": f"re_fake_{len(self.refunds) + 1}",
            "payment_intent": payment_intent_id,
            "amount": amount if amount is not None else self.intents[payment_intent_id]["amount"],
            "metadata": {"orderId": order_id},
        }
        self.refunds[refund_key] = made
        return dict(made)


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def store(dynamodb: Any) -> PaymentsStore:
    return PaymentsStore(create_payments_table(dynamodb), client=dynamodb)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def callbacks() -> FakeCallbacks:
    return FakeCallbacks()


# ---------------------------------------------------------------- the webhook, as Lambda calls it


@dataclass
class WebhookWorld:
    """What a test can look at behind the handler's back, and how it talks to the handler."""

    table: str
    store: PaymentsStore
    dynamodb: Any
    ssm: Any
    observer: BusObserver
    secret_parameter: str
    call_handler: Callable[[dict[str, Any]], dict[str, Any]]
    build_event: Callable[..., dict[str, Any]]

    def set_secret(self, value: str) -> None:
        """Put a new webhook secret in SSM, and forget the cached one (as five minutes passing would)."""
        self.ssm.put_parameter(Name=self.secret_parameter, Value=value, Type="SecureString", Overwrite=True)
        clear_parameter_cache()

    def items(self) -> list[dict[str, Any]]:
        return scan(self.dynamodb, self.table)

    def published(self) -> list[dict[str, Any]]:
        """The events published since the last look, oldest first."""
        return self.observer.published()

    def deliver(
        self,
        payload: dict[str, Any] | str,
        *,
        secret: str = WEBHOOK_SECRET,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        base64_encoded: bool = False,
    ) -> Answer:
        """POST a Stripe event to the handler, signed over exactly the body sent (unless told otherwise)."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        headers: dict[str, str] = {}
        if signed:
            headers["Stripe-Signature"] = signature or sign(text, secret, timestamp)
        event = self.build_event("POST", "/payments/webhook", body=text, headers=headers)
        if base64_encoded:
            event["body"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
            event["isBase64Encoded"] = True
        return Answer.of(self.call_handler(event))


@pytest.fixture
def webhook_world(
    aws: None,
    monkeypatch: pytest.MonkeyPatch,
    api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> WebhookWorld:
    """The webhook function's environment, its table, the bus (observed by an SQS queue) and the
    signing secret in SSM, all in moto."""
    environment = webhook_environment() | {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_WEBHOOK_TOLERANCE_SECONDS", raising=False)
    # Lambda sets the environment before importing the handler; here the module came first.
    monkeypatch.setattr(webhook.metrics, "namespace", environment["POWERTOOLS_METRICS_NAMESPACE"])

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = create_payments_table(dynamodb)
    assert table == environment["PAYMENTS_TABLE"]

    ssm = boto3.client("ssm", region_name=REGION)
    secret_parameter = environment["STRIPE_WEBHOOK_SECRET_PARAMETER"]
    assert secret_parameter == f"/storekeeper/{STAGE}/stripe/webhook-secret"
    ssm.put_parameter(Name=secret_parameter, Value=WEBHOOK_SECRET, Type="SecureString")

    events = boto3.client("events", region_name=REGION)
    bus = environment["EVENT_BUS_NAME"]
    events.create_event_bus(Name=bus)

    return WebhookWorld(
        table=table,
        store=PaymentsStore(table, client=dynamodb),
        dynamodb=dynamodb,
        ssm=ssm,
        observer=BusObserver.on(events, boto3.client("sqs", region_name=REGION), bus),
        secret_parameter=secret_parameter,
        call_handler=lambda event: webhook.handler(event, lambda_context),
        build_event=api_event,
    )
