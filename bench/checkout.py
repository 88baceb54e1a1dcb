"""Checkout benchmark on the local stack: how long from `POST /orders` to `AWAITING_PAYMENT`, and from
the payment to `PAID`, and how many AWS calls our functions make per order, by operation.

The stack runs in this process (as `make run` runs it), so the functions' botocore calls can be
counted: only calls made inside a function handler, and not those of the client's polling `GET`s.
Orders are placed one after another, so each order's calls are the counter's difference.

    python bench/checkout.py [--orders 20]
"""

import argparse
import contextvars
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import stack as local_stack  # noqa: E402
from local.cognito import token_for  # noqa: E402
from local.stripe import pay  # noqa: E402

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)
_counting = contextvars.ContextVar("counting", default=True)
CALLS: Counter[tuple[str, str]] = Counter()


def instrument() -> None:
    """Count every botocore call made inside a handler, keyed by (function, Service.Operation)."""
    from botocore.client import BaseClient

    from local.gateway import Gateway
    from local.lambdas import Dispatcher

    make_api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, untyped

    def counted(self: Any, operation: str, params: Any) -> Any:
        function = _function.get()
        if function is not None and _counting.get():
            CALLS[(function, f"{self.meta.service_model.service_name}.{operation}")] += 1
        return make_api_call(self, operation, params)

    setattr(BaseClient, "_make_api_call", counted)  # noqa: B010

    call = Dispatcher.call

    def in_function(self: Any, name: str, event: Any) -> Any:
        token = _function.set(self.spec(name).logical_id)
        try:
            return call(self, name, event)
        finally:
            _function.reset(token)

    Dispatcher.call = in_function  # type: ignore[method-assign]
    handle = Gateway.handle

    def not_polls(self: Any, request: Any) -> Any:
        token = _counting.set(request.method != "GET")
        try:
            return handle(self, request)
        finally:
            _counting.reset(token)

    Gateway.handle = not_polls  # type: ignore[method-assign]


def wait(session: requests.Session, url: str, token: str, status: str) -> float:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if session.get(url, headers={"Authorization": token}, timeout=10).json()["status"] == status:
            return time.perf_counter()
        time.sleep(0.01)
    raise TimeoutError(f"{url} never reached {status}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    instrument()
    with tempfile.TemporaryDirectory() as state_dir:
        ports = [local_stack._free_port() for _ in range(3)]
        options = local_stack.Options(
            api_port=ports[0],
            aws_port=ports[1],
            stripe_port=ports[2],
            state_dir=Path(state_dir),
            seed=False,
            quiet=True,
        )
        stack = local_stack.Stack(options)
        stack.start()
        try:
            run(stack, args.orders)
        finally:
            stack.stop()


def run(stack: local_stack.Stack, orders: int) -> None:
    state = stack.state
    api, aws = state["apiUrl"], state["awsEndpoint"]
    admin = token_for(aws, state["userPoolId"], state["userPoolClientId"], "admin@example.com", "admin")
    alice = token_for(aws, state["userPoolId"], state["userPoolClientId"], "alice@example.com")
    session = requests.Session()
    sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    product = {
        "name": "Bench Lamp",
        "description": "-",
        "category": "home",
        "price": {"amount": 1000, "currency": "EUR"},
        "variants": [{"sku": sku}],
    }
    session.post(f"{api}/products", json=product, headers={"Authorization": admin}, timeout=30).raise_for_status()
    deadline = time.monotonic() + 10
    while session.get(f"{api}/inventory/{sku}", headers={"Authorization": admin}, timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("no stock record")
        time.sleep(0.05)
    adjust = {"delta": orders + 1, "reason": "restock"}
    session.post(
        f"{api}/inventory/{sku}/adjustments", json=adjust, headers={"Authorization": admin}, timeout=30
    ).raise_for_status()

    to_awaiting, to_paid, per_order = [], [], []
    body = {
        "items": [{"sku": sku, "quantity": 1}],
        "shippingAddress": {"name": "A", "line1": "1 St", "city": "X", "postalCode": "1", "country": "DE"},
    }
    for _ in range(orders):
        before = CALLS.copy()
        started = time.perf_counter()
        answer = session.post(
            f"{api}/orders",
            json=body,
            headers={"Authorization": alice, "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        order_id = answer.json()["orderId"]
        awaiting = wait(session, f"{api}/orders/{order_id}", alice, "AWAITING_PAYMENT")
        paying = time.perf_counter()
        pay(state["stripeUrl"], order_id)
        paid = wait(session, f"{api}/orders/{order_id}", alice, "PAID")
        time.sleep(0.3)  # let the shipment step register its token, so its calls count for this order
        to_awaiting.append(awaiting - started)
        to_paid.append(paid - paying)
        per_order.append(CALLS - before)

    print(f"Checkout on the local stack, {orders} orders one after another\n")
    print("| phase | median (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    for name, values in (("POST /orders → AWAITING_PAYMENT", to_awaiting), ("payment confirmed → PAID", to_paid)):
        print(f"| {name} | {statistics.median(values) * 1000:.0f} | {percentile(values, 0.95) * 1000:.0f} |")
    total: Counter[tuple[str, str]] = Counter()
    for calls in per_order:
        total.update(calls)
    print(f"\nAWS calls per order made by our functions (median over {orders} orders; the client's polling excluded)\n")
    print("| function | call | per order |")
    print("|---|---|---:|")
    medians = {key: statistics.median(calls.get(key, 0) for calls in per_order) for key in total}
    for (function, operation), value in sorted(medians.items()):
        if value:
            print(f"| {function} | {operation} | {value:g} |")
    print(f"| **all** | | **{sum(medians.values()):g}** |")


if __name__ == "__main__":
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # metrics print to stdout, where the tables go
    warnings.filterwarnings("ignore")
    main()
    sys.stdout.flush()
