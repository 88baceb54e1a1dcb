"""Checkout benchmark on the local stack: where each order's time goes (our code, the local AWS, the local
Stripe), the AWS calls our functions make per order, and what 1,000 orders would cost on AWS.

The stack runs in this process (as `make run` runs it) with `LOCAL_PROFILE` on, so every worker times
its handler and each AWS and Stripe call inside it (`local.worker.Profiler`) and hands the invoke to this
process (`local.workers.add_profile_listener`). Orders are placed one after another, after one warm-up
order that is not counted, so every invoke belongs to the order in flight. The benchmark follows each
order through those invokes, not by polling the API: a phase ends when the transition that writes the
status has answered, and no client `GET` adds its own calls or its own time.

Two phases are split: `POST /orders` until `AWAITING_PAYMENT` is written, and the payment webhook's
arrival at the API until `PAID` is written (localstripe's own webhook delay is before the arrival, so
outside). In each, over the invokes on the customer's path (the API request and the workflow's tasks;
not the bus and queue consumers that run beside it):

- ours: time inside our handlers, minus their waits on AWS and Stripe calls;
- local Stripe: time in the stripe library's HTTP calls;
- local AWS: the rest of the phase — botocore calls to moto, moto's Step Functions and Lambda hops
  between our handlers, the local API Gateway and the worker round trips.

Cost per 1,000 orders prices what the orders used: Lambda requests and GB-seconds (each function's
MemorySize and architecture from template.yaml), API Gateway requests, DynamoDB request units (the
AWS-like model's counters with `--dynamodb-model aws` when the local AWS has them, otherwise estimated
from the calls), Step Functions state transitions (from each execution's history), EventBridge events
published, SES emails (the outbox) and SQS requests, at the on-demand prices in `PRICES`.

    python bench/checkout.py [--orders 20] [--dynamodb-model aws] [--cprofile DIR]
"""

from __future__ import annotations

import argparse
import contextvars
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import stack as local_stack  # noqa: E402
from local import workers  # noqa: E402
from local.cognito import token_for  # noqa: E402
from local.stripe import pay  # noqa: E402
from local.template import REGION, Template  # noqa: E402

SETTLE_SECONDS = 1.5
"""Quiet time after an order before its counts close: the queue consumers' batching window is 1 s."""

# On-demand prices, USD, read with the search tool on 2026-12-02 (see the notes printed under the table).
PRICES: dict[str, tuple[float, str]] = {
    "lambda_request": (0.20 / 1e6, "per request"),
    "lambda_gb_s_arm64": (0.0000133334, "per GB-second"),
    "lambda_gb_s_x86_64": (0.0000166667, "per GB-second"),
    "apigw_rest_request": (3.50 / 1e6, "per request"),
    "dynamodb_wru": (0.625 / 1e6, "per write request unit"),
    "dynamodb_rru": (0.125 / 1e6, "per read request unit"),
    "sfn_transition": (0.025 / 1e3, "per state transition"),
    "eventbridge_event": (1.00 / 1e6, "per custom event"),
    "ses_email": (0.10 / 1e3, "per email"),
    "sqs_request": (0.40 / 1e6, "per request"),
}

_arrival: contextvars.ContextVar[tuple[float, str, str] | None] = contextvars.ContextVar("arrival", default=None)


@dataclass(frozen=True)
class Seen:
    """A profiled invoke as the benchmark keeps it: the function's logical id, and for an API request
    when it reached the local API Gateway, its method and path."""

    invocation: workers.Invocation
    function: str
    arrived: float | None
    method: str
    path: str

    @property
    def trigger(self) -> str:
        event = self.invocation.event
        if self.method:
            return "api"
        if isinstance(event, dict) and "Records" in event:
            return "sqs"
        if isinstance(event, dict) and "detail-type" in event:
            return "eventbridge"
        return "invoke"  # a workflow task or a direct lambda:Invoke

    def made(self, name: str) -> bool:
        return any(call.name == name for call in self.invocation.calls)


class Recorder:
    """Collects every profiled invoke, counts the invokes in flight, and lets the benchmark wait on both."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.last_change = time.monotonic()
        self.dispatcher: Any = None
        self.changed = threading.Condition()

    def install(self) -> None:
        from local.gateway import Gateway
        from local.lambdas import Dispatcher

        recorder = self
        call = Dispatcher.call

        def counted(dispatcher: Any, name: str, event: Any) -> Any:
            with recorder.changed:
                recorder.dispatcher = dispatcher
                recorder.in_flight += 1
            try:
                return call(dispatcher, name, event)
            finally:
                with recorder.changed:
                    recorder.in_flight -= 1
                    recorder.last_change = time.monotonic()
                    recorder.changed.notify_all()

        Dispatcher.call = counted  # type: ignore[method-assign,assignment]
        handle = Gateway.handle

        def arriving(gateway: Any, request: Any) -> Any:
            token = _arrival.set((time.monotonic(), request.method, request.path))
            try:
                return handle(gateway, request)
            finally:
                _arrival.reset(token)

        Gateway.handle = arriving  # type: ignore[method-assign,assignment]
        workers.add_profile_listener(self.record)

    def record(self, invocation: workers.Invocation) -> None:
        arrival = _arrival.get()
        function = self.dispatcher.spec(invocation.function).logical_id if self.dispatcher else invocation.function
        seen = Seen(
            invocation,
            function,
            arrival[0] if arrival else None,
            arrival[1] if arrival else "",
            arrival[2] if arrival else "",
        )
        with self.changed:
            self.seen.append(seen)
            self.last_change = time.monotonic()
            self.changed.notify_all()

    def since(self, index: int) -> list[Seen]:
        with self.changed:
            return list(self.seen[index:])

    def wait_for(self, found: Callable[[Seen], bool], index: int, seconds: float = 30) -> Seen:
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                for seen in self.seen[index:]:
                    if found(seen):
                        return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the order never got there")
                self.changed.wait(left)

    def settle(self, quiet: float, seconds: float = 30) -> None:
        """Until nothing has run for `quiet` seconds: the order's consumers and queue batches are done."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while self.in_flight or time.monotonic() - self.last_change < quiet:
                if time.monotonic() > deadline:
                    raise TimeoutError("the stack never went quiet")
                self.changed.wait(0.05)


# ------------------------------------------------------------------ intervals


def _union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: Iterable[tuple[float, float]], window: tuple[float, float]) -> float:
    low, high = window
    return sum(max(0.0, min(end, high) - max(start, low)) for start, end in _union(intervals))


def _outside(span: tuple[float, float], holes: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """`span` minus `holes`: the handler's time that is not spent waiting on a call."""
    pieces, cursor = [], span[0]
    for start, end in _union(holes):
        if start > cursor:
            pieces.append((cursor, min(start, span[1])))
        cursor = max(cursor, end)
    if cursor < span[1]:
        pieces.append((cursor, span[1]))
    return pieces


HANDOVERS = ("stepfunctions.StartExecution", "stepfunctions.SendTaskSuccess")


def _handed_over(run: workers.Invocation) -> float:
    """Where a handler's part of the path ends: when it has handed the order to the workflow (started it,
    or sent the task token back). What it does after runs beside the workflow, not in front of it."""
    return min((call.end for call in run.calls if call.name in HANDOVERS), default=run.end)


@dataclass(frozen=True)
class Split:
    """A phase's wall time: `ours + aws + stripe == total`; `aws` is `between` (no handler of the path
    running: moto's Step Functions and Lambda hops, the local API Gateway, worker round trips) plus the
    time in AWS calls, of which `sdk` is botocore's own work in our process (not on the wire)."""

    total: float
    ours: float
    aws: float
    stripe: float
    between: float
    sdk: float
    ours_by_function: dict[str, float]


def split(path: list[Seen], window: tuple[float, float]) -> Split:
    """A phase's wall time as ours / local Stripe / local AWS, from the invokes on the customer's path.
    Nested invokes (a handler calling another synchronously) count once: the inner handler's code is
    ours, the outer one's wait on it is not. A handler that hands the order to the workflow counts only
    up to the handover (`_handed_over`)."""
    ours_pieces: dict[str, list[tuple[float, float]]] = defaultdict(list)
    stripe_calls: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []
    sdk = 0.0
    for seen in path:
        run = seen.invocation
        end = _handed_over(run)
        calls = [call for call in run.calls if call.start < end]
        spans.append((run.start, end))
        ours_pieces[seen.function] += _outside((run.start, end), [(call.start, call.end) for call in calls])
        stripe_calls += [(call.start, min(call.end, end)) for call in calls if call.kind == "stripe"]
        sdk += sum(
            max(0.0, call.end - call.start - call.wire)
            for call in calls
            if call.kind == "aws" and window[0] <= call.start and call.end <= window[1]
        )
    total = window[1] - window[0]
    ours = _length((piece for pieces in ours_pieces.values() for piece in pieces), window)
    stripe = min(_length(stripe_calls, window), total - ours)
    between = total - _length(spans, window)
    by_function = {function: _length(pieces, window) for function, pieces in ours_pieces.items()}
    return Split(total, ours, total - ours - stripe, stripe, between, sdk, by_function)


# ------------------------------------------------------------------ one order


@dataclass
class Order:
    placing: Split
    paying: Split
    seen: list[Seen]
    transitions: int
    emails: int
    dynamodb_units: tuple[float, float] | None  # (read, write) from the AWS-like model's counters


def _transition_to(order_id: str, status: str) -> Callable[[Seen], bool]:
    def found(seen: Seen) -> bool:
        event = seen.invocation.event
        return (
            seen.function == "OrderTransitionFunction"
            and isinstance(event, dict)
            and event.get("orderId") == order_id
            and event.get("to") == status
        )

    return found


def _on_path(seen: Seen, webhook: Seen | None = None) -> bool:
    """The invokes a customer waits for: the API request and the workflow's tasks (and their nested
    invokes); not the bus and queue consumers, nor Stripe's other webhooks."""
    if seen.trigger in ("sqs", "eventbridge"):
        return False
    if seen.trigger == "api":
        return seen.method == "POST" and (seen.path.endswith("/orders") or seen is webhook)
    return True


class Bench:
    """One shop on the running stack (a product, its stock, a customer) and the orders placed in it."""

    def __init__(self, stack: local_stack.Stack, recorder: Recorder, model_counters: bool) -> None:
        self.stack = stack
        self.recorder = recorder
        state = stack.state
        self.api, self.aws = state["apiUrl"], state["awsEndpoint"]
        self.session = requests.Session()
        self.model_counters = model_counters
        self.admin = token_for(self.aws, state["userPoolId"], state["userPoolClientId"], "admin@example.com", "admin")
        self.alice = token_for(self.aws, state["userPoolId"], state["userPoolClientId"], "alice@example.com")
        import boto3

        self.sfn = boto3.client("stepfunctions", endpoint_url=self.aws, region_name=REGION)
        self.seen_executions: set[str] = set()

    def prepare(self, orders: int) -> dict[str, Any]:
        sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
        product = {
            "name": "Bench Lamp",
            "description": "-",
            "category": "home",
            "price": {"amount": 1000, "currency": "EUR"},
            "variants": [{"sku": sku}],
        }
        headers = {"Authorization": self.admin}
        self.session.post(f"{self.api}/products", json=product, headers=headers, timeout=30).raise_for_status()
        deadline = time.monotonic() + 10
        while self.session.get(f"{self.api}/inventory/{sku}", headers=headers, timeout=10).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError("no stock record")
            time.sleep(0.05)
        # Far above the low-stock threshold: no order of the run crosses it (an alert is not an order's cost).
        adjust = {"delta": orders + 1000, "reason": "restock"}
        self.session.post(
            f"{self.api}/inventory/{sku}/adjustments", json=adjust, headers=headers, timeout=30
        ).raise_for_status()
        self.recorder.settle(SETTLE_SECONDS)
        self._new_executions()
        return {
            "items": [{"sku": sku, "quantity": 1}],
            "shippingAddress": {"name": "A", "line1": "1 St", "city": "X", "postalCode": "1", "country": "DE"},
        }

    def order(self, body: dict[str, Any]) -> Order:
        recorder = self.recorder
        index = len(recorder.since(0))
        emails_before = self._emails()
        self._reset_counters()
        placed = time.monotonic()
        answer = self.session.post(
            f"{self.api}/orders",
            json=body,
            headers={"Authorization": self.alice, "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        answer.raise_for_status()
        order_id = answer.json()["orderId"]
        awaiting = recorder.wait_for(_transition_to(order_id, "AWAITING_PAYMENT"), index)
        pay(self.stack.state["stripeUrl"], order_id)
        paid = recorder.wait_for(_transition_to(order_id, "PAID"), index)
        recorder.wait_for(
            lambda s: s.function == "AwaitShipmentFunction" and s.invocation.event.get("orderId") == order_id, index
        )
        recorder.settle(SETTLE_SECONDS)
        seen = recorder.since(index)
        units = self._counters()
        status = self.session.get(
            f"{self.api}/orders/{order_id}", headers={"Authorization": self.alice}, timeout=10
        ).json()["status"]
        if status != "PAID":
            raise RuntimeError(f"order {order_id} is {status}, not PAID")
        webhook = next(
            s for s in seen if s.function == "PaymentsWebhookFunction" and s.made("stepfunctions.SendTaskSuccess")
        )
        assert webhook.arrived is not None
        first = [s for s in seen if s.invocation.start <= awaiting.invocation.end]
        second = [s for s in seen if s.invocation.end >= webhook.arrived]
        return Order(
            placing=split([s for s in first if _on_path(s)], (placed, awaiting.invocation.answered)),
            paying=split([s for s in second if _on_path(s, webhook)], (webhook.arrived, paid.invocation.answered)),
            seen=[s for s in seen if not (s.trigger == "api" and s.method == "GET")],
            transitions=self._transitions(),
            emails=self._emails() - emails_before,
            dynamodb_units=units,
        )

    def _emails(self) -> int:
        return len(list(self.stack.outbox_dir.glob("*.eml"))) if self.stack.outbox_dir.exists() else 0

    def _new_executions(self) -> list[str]:
        arns = []
        for machine in self.sfn.list_state_machines()["stateMachines"]:
            for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                arns += [e["executionArn"] for e in page["executions"] if e["executionArn"] not in self.seen_executions]
        self.seen_executions.update(arns)
        return arns

    def _transitions(self) -> int:
        """State transitions the order's executions have made so far: the states they entered."""
        count = 0
        for arn in self._new_executions():
            for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                count += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        return count

    def _reset_counters(self) -> None:
        if self.model_counters:
            self.session.post(f"{self.aws}/_storekeeper/dynamodb", timeout=10)

    def _counters(self) -> tuple[float, float] | None:
        if not self.model_counters:
            return None
        counters = self.session.get(f"{self.aws}/_storekeeper/dynamodb", timeout=10).json()
        return float(counters["readUnits"]), float(counters["writeUnits"])


# ------------------------------------------------------------------ cost

READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


def estimated_units(seen: Iterable[Seen]) -> tuple[float, float]:
    """(read, write) request units from the calls, for items of at most 1 KB (writes) and 4 KB (reads):
    a strongly consistent read 1, eventually consistent ½, transactional 2 per item; a write 1,
    transactional 2 per item (condition checks included); a Query or Scan 1 per started 4 KB, taking
    items as ½ KB."""
    read = write = 0.0
    for s in seen:
        for call in s.invocation.calls:
            service, _, operation = call.name.partition(".")
            if service != "dynamodb":
                continue
            per_read = 1.0 if call.consistent else 0.5
            if operation in ("Query", "Scan"):
                read += max(1, math.ceil(call.items / 8)) * per_read
            elif operation in READS:
                read += call.items * per_read
            elif operation == "TransactGetItems":
                read += 2 * call.items
            elif operation in WRITES:
                write += call.items
            elif operation == "TransactWriteItems":
                write += 2 * call.items
    return read, write


def functions_config() -> dict[str, tuple[int, str]]:
    """Each function's (MemorySize, architecture), Globals applied, from template.yaml."""
    template = Template(ROOT / "template.yaml")
    return {
        logical_id: (int(props.get("MemorySize", 128)), str((props.get("Architectures") or ["x86_64"])[0]))
        for logical_id, props in template.functions()
    }


def cost(orders: list[Order]) -> list[tuple[str, float, str, float]]:
    """(item, quantity per 1,000 orders, unit price text, cost per 1,000 orders) rows."""
    n = len(orders)
    per_k = 1000 / n
    config = functions_config()
    rows: list[tuple[str, float, str, float]] = []

    def row(item: str, quantity: float, price_key: str) -> None:
        price, unit = PRICES[price_key]
        rows.append((item, quantity * per_k, f"${price:.10f}".rstrip("0") + f" {unit}", quantity * per_k * price))

    seen = [s for o in orders for s in o.seen]
    row("Lambda requests", len(seen), "lambda_request")
    gb_s: dict[str, float] = defaultdict(float)
    for s in seen:
        memory, arch = config.get(s.function, (128, "x86_64"))
        billed_ms = math.ceil((s.invocation.end - s.invocation.start) * 1000)
        gb_s[arch] += billed_ms / 1000 * memory / 1024
    for arch, value in sorted(gb_s.items()):
        row(f"Lambda duration ({arch}, GB-s)", value, f"lambda_gb_s_{arch}")
    row("API Gateway REST requests", sum(1 for s in seen if s.trigger == "api"), "apigw_rest_request")
    if all(o.dynamodb_units is not None for o in orders):
        read = sum(o.dynamodb_units[0] for o in orders if o.dynamodb_units)
        write = sum(o.dynamodb_units[1] for o in orders if o.dynamodb_units)
        source = "model"
    else:
        read, write = estimated_units(seen)
        source = "estimated"
    row(f"DynamoDB write request units ({source})", write, "dynamodb_wru")
    row(f"DynamoDB read request units ({source})", read, "dynamodb_rru")
    row("Step Functions state transitions", sum(o.transitions for o in orders), "sfn_transition")
    events = sum(c.items for s in seen for c in s.invocation.calls if c.name == "events.PutEvents")
    row("EventBridge events published", events, "eventbridge_event")
    row("SES emails", sum(o.emails for o in orders), "ses_email")
    batches = [s for s in seen if s.trigger == "sqs"]
    messages = sum(len(s.invocation.event["Records"]) for s in batches)
    our_sqs = sum(
        c.items if "Batch" in c.name else 1 for s in seen for c in s.invocation.calls if c.name.startswith("sqs.")
    )
    # EventBridge's send per message, then the event source mapping's receive and delete per batch.
    row("SQS requests", messages + 2 * len(batches) + our_sqs, "sqs_request")
    return rows


# ------------------------------------------------------------------ report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


_STRIPE_ID = re.compile(r"^[a-z]+_(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{8,}$")  # pi_3Mtw…, txn_T8UR…


def _route(name: str) -> str:
    """`GET /v1/payment_intents/pi_3Mtw…` → `GET /v1/payment_intents/{id}`."""
    return "/".join("{id}" if _STRIPE_ID.match(part) else part for part in name.split("/"))


def p95(values: list[float]) -> float:
    return percentile(values, 0.95)


def report(orders: list[Order]) -> None:
    n = len(orders)
    print(f"Checkout on the local stack, {n} orders one after another (after one warm-up order)\n")
    print(
        "| phase | | total (ms) | ours (ms) | local AWS (ms) | local Stripe (ms) "
        "| AWS: between handlers (ms) | AWS: in calls (ms) | of which SDK work (ms) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    phases: tuple[tuple[str, list[Split]], ...] = (
        ("POST /orders → AWAITING_PAYMENT", [o.placing for o in orders]),
        ("webhook arrival → PAID", [o.paying for o in orders]),
    )
    for name, splits in phases:
        pickers: tuple[tuple[str, Callable[[list[float]], float]], ...] = (("median", statistics.median), ("p95", p95))
        for label, pick in pickers:
            cells = [pick([getattr(s, part) * 1000 for s in splits]) for part in ("total", "ours", "aws", "stripe")]
            cells += [pick([s.between * 1000 for s in splits]), pick([(s.aws - s.between) * 1000 for s in splits])]
            cells += [pick([s.sdk * 1000 for s in splits])]
            print(f"| {name if label == 'median' else ''} | {label} | " + " | ".join(f"{c:.0f}" for c in cells) + " |")
    print("\nOur time by function (median ms per order; the parts' medians need not add up to the phase's)\n")
    print("| phase | function | ours (ms) |")
    print("|---|---|---:|")
    for name, splits in phases:
        functions = sorted({f for s in splits for f in s.ours_by_function})
        for function in functions:
            value = statistics.median(s.ours_by_function.get(function, 0.0) * 1000 for s in splits)
            print(f"| {name} | {function} | {value:.1f} |")

    per_order = [
        Counter((s.function, c.name) for s in o.seen for c in s.invocation.calls if c.kind == "aws") for o in orders
    ]
    keys = sorted({k for calls in per_order for k in calls})
    print(f"\nAWS calls per order made by our functions (median over {n} orders)\n")
    print("| function | call | per order |")
    print("|---|---|---:|")
    medians = {key: statistics.median(calls.get(key, 0) for calls in per_order) for key in keys}
    for (function, operation), value in medians.items():
        if value:
            print(f"| {function} | {operation} | {value:g} |")
    print(f"| **all** | | **{sum(medians.values()):g}** |")
    stripe = [Counter(_route(c.name) for s in o.seen for c in s.invocation.calls if c.kind == "stripe") for o in orders]
    stripe_keys = sorted({k for calls in stripe for k in calls})
    if stripe_keys:
        print(
            "\nStripe calls per order (median): "
            + ", ".join(f"{k} {statistics.median(c.get(k, 0) for c in stripe):g}" for k in stripe_keys)
        )

    rows = cost(orders)
    print(f"\nCost per 1,000 orders on AWS ({REGION}, on-demand, no free tier)\n")
    print("| item | per 1,000 orders | unit price | cost (USD) |")
    print("|---|---:|---|---:|")
    for item, quantity, price, value in rows:
        print(f"| {item} | {quantity:,.1f} | {price} | {value:.4f} |")
    print(f"| **total** | | | **{sum(r[3] for r in rows):.4f}** |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument(
        "--dynamodb-model", choices=("serial", "aws"), default=os.environ.get("LOCAL_DYNAMODB_MODEL", "serial")
    )
    parser.add_argument("--cprofile", type=Path, help="also write each worker's cProfile stats to this folder")
    args = parser.parse_args()
    os.environ[workers.PROFILE_ENV] = "1"
    os.environ["LOCAL_DYNAMODB_MODEL"] = args.dynamodb_model
    if args.cprofile:
        args.cprofile.mkdir(parents=True, exist_ok=True)
        os.environ[workers.PROFILE_DIR_ENV] = str(args.cprofile.resolve())
    recorder = Recorder()
    recorder.install()
    with tempfile.TemporaryDirectory() as state_dir:
        options = local_stack.Options.on_free_ports(
            Path(state_dir),
            seed=False,
            quiet=True,
        )
        stack = local_stack.Stack(options)
        stack.start()
        try:
            model = (
                args.dynamodb_model == "aws"
                and requests.get(f"{stack.state['awsEndpoint']}/_storekeeper/dynamodb", timeout=10).ok
            )
            bench = Bench(stack, recorder, model_counters=model)
            body = bench.prepare(args.orders)
            bench.order(body)  # warm-up: every function on the path starts once
            report([bench.order(body) for _ in range(args.orders)])
        finally:
            stack.stop()


if __name__ == "__main__":
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # metrics print to stdout, where the tables go
    warnings.filterwarnings("ignore")
    main()
    sys.stdout.flush()
