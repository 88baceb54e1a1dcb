"""The load test (`bench/load.py` + `bench/locustfile.py`): its mix is the one its docstring states, and a
short real Locust run (from `.tools/locust`) against a stand-in API is read back route by route, errors
included. A run against the whole stack starts it first (about a minute here); `make bench` does that."""

import json
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bench import load

ROOT = Path(__file__).resolve().parents[2]
LOCUST_PYTHON = ROOT / ".tools" / "locust" / "bin" / "python"
MIX = {"product_page": 5, "catalog_page": 3, "search": 2, "cart": 2, "checkout": 1}
ROUTES = {
    "GET /categories",
    "GET /products",
    "GET /products?category=",
    "GET /products?q=",
    "GET /products/{id}",
    "GET /products/{id}/recommendations",
    "POST /quotes",
    "POST /orders",
    "GET /orders/{id} (poll)",
    "POST stripe /v1/payment_intents/{id}",
    "POST stripe /v1/payment_intents/{id}/confirm",
    "CHECKOUT POST /orders → AWAITING_PAYMENT",
    "CHECKOUT payment confirmed → PAID",
}


@pytest.fixture(scope="module", autouse=True)
def _locust() -> None:
    if not LOCUST_PYTHON.exists():
        pytest.fail("Locust's venv is missing: run `make install`")


class StandIn(BaseHTTPRequestHandler):
    """The API and Stripe routes the locustfile calls, answered as the stack answers them. An order is
    `AWAITING_PAYMENT` until its PaymentIntent is confirmed, then `PAID`; `failing` routes answer 503."""

    paid: ClassVar[set[str]] = set()
    failing: ClassVar[set[str]] = set()

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/orders/"):
            order_id = path.rsplit("/", 1)[1]
            status = "PAID" if order_id in self.paid else "AWAITING_PAYMENT"
            self._answer(200, {"orderId": order_id, "status": status, "payment": {"paymentIntentId": f"pi_{order_id}"}})
        else:
            self._answer(200, {"items": [], "nextCursor": None})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path
        if path == "/quotes":
            self._answer(200, {"shippingMethods": [{"shippingMethodId": "sm_standard"}]})
        elif path == "/orders":
            self._answer(202, {"orderId": uuid.uuid4().hex})
        elif path.endswith("/confirm"):
            self.paid.add(path.split("/")[3].removeprefix("pi_"))
            self._answer(200, {"status": "succeeded"})
        else:
            self._answer(200, {})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        if self.path.split("?")[0] in self.failing:
            status, body = 503, {"message": "Service Unavailable"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.paid, StandIn.failing = set(), set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def config(url: str, shoppers: int) -> dict[str, Any]:
    return {
        "apiUrl": url,
        "stripeUrl": url,
        "stripeKey": "sk_test_x",
        "productIds": ["p_1", "p_2"],
        "skus": ["TEE-RED-S", "MUG-INK", "PEN-F"],
        "categories": ["apparel", "home"],
        "searches": ["tee"],
        "tokens": [f"token-{n}" for n in range(shoppers)],
        "thinkSeconds": [0.01, 0.05],
    }


def test_the_mix_is_the_one_the_locustfile_documents(tmp_path: Path) -> None:
    # Given the locustfile, loaded by Locust's own Python as Locust loads it
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config("http://127.0.0.1:9", 1)))
    script = (
        "import collections, json, locustfile; "
        "print(json.dumps({'doc': locustfile.__doc__, "
        "'tasks': collections.Counter(t.__name__ for t in locustfile.Shopper.tasks)}))"
    )
    # When its shopper's tasks are counted
    done = subprocess.run(
        [str(LOCUST_PYTHON), "-c", script],
        cwd=ROOT / "bench",
        env={"LOAD_CONFIG": str(config_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout)
    # Then the weights are the mix, and the docstring states the same numbers
    assert loaded["tasks"] == MIX
    doc = " ".join(loaded["doc"].split())
    stated = re.search(
        r"Per (\d+) page views \(`TASKS`\): (\d+) product pages, (\d+) catalog pages, (\d+) searches, "
        r"(\d+) carts priced, (\d+) checkout",
        doc,
    )
    assert stated is not None, doc
    assert [int(n) for n in stated.groups()] == [sum(MIX.values()), *MIX.values()]


def test_a_short_run_reports_every_route_and_no_error(stand_in: str, tmp_path: Path) -> None:
    # Given an API that answers every route well
    # When Locust runs the mix for a few seconds
    report = load.run_locust(config(stand_in, 5), tmp_path, seconds=4, users=5, spawn_rate=5)
    # Then every route and both checkout waits have a row with timings, and nothing failed
    names = {f"{row.kind} {row.name}" for row in report.rows}
    assert names == ROUTES
    assert all(row.requests > 0 and row.p50_ms >= 0 and row.p95_ms >= row.p50_ms for row in report.rows)
    assert report.errors == 0, report.failures
    assert "errors: 0 (warm-up: 0)" in load.render(report)


def test_failed_requests_are_counted_and_named(stand_in: str, tmp_path: Path) -> None:
    # Given an API whose quotes answer 503
    StandIn.failing = {"/quotes"}
    # When Locust runs the mix
    report = load.run_locust(config(stand_in, 5), tmp_path, seconds=3, users=5, spawn_rate=5)
    # Then every quote is an error, named after its route, and no order was placed
    quotes = next(row for row in report.rows if row.name == "/quotes")
    assert quotes.failures == quotes.requests > 0
    assert report.errors == quotes.failures
    assert {(f.kind, f.name) for f in report.failures} == {("POST", "/quotes")}
    assert "POST /orders" not in {f"{row.kind} {row.name}" for row in report.rows}
    assert f"errors: {quotes.failures}" in load.render(report)
