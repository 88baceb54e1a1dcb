"""localstripe, the local Stripe: started as a subprocess (it is GPL: never imported, never shipped).

The process gets its own process group so that stopping the stack kills it and anything it spawned,
even when the stack dies by SIGTERM; `stop` is idempotent and is also registered with `atexit`.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("local.stripe")

SECRET_KEY = "sk_test_storekeeper_local"  # noqa: S105 - localstripe accepts any sk_test_ key
DEFAULT_BINARY = Path(__file__).resolve().parent.parent / ".tools" / "localstripe" / "bin" / "localstripe"


def webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


class LocalStripe:
    def __init__(self, port: int, log_path: Path, binary: Path = DEFAULT_BINARY) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.binary = binary
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        if not self.binary.exists():
            raise FileNotFoundError(f"localstripe not found at {self.binary}: run `make install`")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [str(self.binary), "--port", str(self.port), "--from-scratch"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self._process.returncode}; see {self.log_path}")
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{self.url}/v1/balance", auth=(SECRET_KEY, ""), timeout=1)
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(
            f"localstripe did not answer on port {self.port} within {timeout:.0f} s; see {self.log_path}"
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def register_webhook(self, url: str, secret: str, name: str = "storekeeper") -> None:
        response = requests.post(f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5)
        response.raise_for_status()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# ----------------------------------------------------------------------- `python -m local pay`


class NoPaymentIntent(LookupError):
    pass


def find_payment_intent(base_url: str, order_id: str) -> dict[str, Any]:
    response = requests.get(f"{base_url}/v1/payment_intents", auth=(SECRET_KEY, ""), params={"limit": 100}, timeout=5)
    response.raise_for_status()
    for intent in response.json().get("data", []):
        if (intent.get("metadata") or {}).get("orderId") == order_id:
            return dict(intent)
    raise NoPaymentIntent(f"no PaymentIntent with metadata.orderId={order_id} in localstripe at {base_url}")


def pay(base_url: str, order_id: str, *, decline: bool = False) -> dict[str, Any]:
    """Pay as a browser would: attach a card (one that declines if asked), then confirm.
    localstripe does not take `payment_method` at confirm, hence the update first."""
    intent = find_payment_intent(base_url, order_id)
    method = "pm_card_chargeCustomerFail" if decline else "pm_card_visa"
    auth = (SECRET_KEY, "")
    url = f"{base_url}/v1/payment_intents/{intent['id']}"
    requests.post(url, data={"payment_method": method}, auth=auth, timeout=5).raise_for_status()
    response = requests.post(f"{url}/confirm", auth=auth, timeout=10)
    if response.status_code >= 400 and not decline:
        response.raise_for_status()
    return dict(requests.get(url, auth=auth, timeout=5).json())


# ----------------------------------------------------------------------- signed events localstripe never sends


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, by Stripe's published scheme (HMAC-SHA256 over
    `"{timestamp}.{payload}"`). The tests sign their fixtures with it too."""
    at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_local_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


FAULTS_PATH = "/_storekeeper/faults"


class StripeProxy:
    """What the functions see as Stripe locally: localstripe behind a proxy that, where localstripe sends
    no webhook (refunds, cancellations), posts the event Stripe would send, signed with the webhook
    secret, shortly after the call succeeded — so the same webhook code runs locally as in AWS."""

    def __init__(self, upstream: str, webhook_url: str, secret: str, port: int) -> None:
        self.upstream = upstream
        self.webhook_url = webhook_url
        self.secret = secret
        self._refunded: dict[str, int] = {}
        self._faults: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-proxy", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == FAULTS_PATH:
            return self._configure_faults(request)(environ, start_response)
        fault = self._take_fault(request.method, request.path)
        if fault is not None:
            body = json.dumps({"error": {"type": "api_error", "message": "injected by the local stack"}})
            return Response(body, status=fault, content_type="application/json")(environ, start_response)
        upstream = requests.request(
            request.method,
            f"{self.upstream}{request.full_path.rstrip('?')}",
            data=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
            timeout=30,
        )
        if request.method == "POST" and upstream.ok:
            self._follow_up(request.path, upstream.json())
        response = Response(
            upstream.content, status=upstream.status_code, content_type=upstream.headers.get("Content-Type")
        )
        return response(environ, start_response)

    def _configure_faults(self, request: Request) -> Response:
        """`POST /_storekeeper/faults {"method", "path", "status", "times"}`: the next `times` calls whose
        path starts with `path` answer `status` (tests make Stripe fail); `DELETE` clears them."""
        with self._lock:
            if request.method == "DELETE":
                self._faults.clear()
            else:
                self._faults.append(dict(json.loads(request.get_data() or b"{}")))
            return Response(json.dumps({"faults": self._faults}), content_type="application/json")

    def _take_fault(self, method: str, path: str) -> int | None:
        with self._lock:
            for fault in self._faults:
                if fault.get("method", method) == method and path.startswith(fault["path"]) and fault["times"] > 0:
                    fault["times"] -= 1
                    return int(fault.get("status", 500))
        return None

    def _follow_up(self, path: str, body: dict[str, Any]) -> None:
        if path == "/v1/refunds":
            intent = requests.get(
                f"{self.upstream}/v1/payment_intents/{body['payment_intent']}", auth=(SECRET_KEY, ""), timeout=5
            ).json()
            with self._lock:
                total = self._refunded.get(intent["id"], 0) + int(body["amount"])
                self._refunded[intent["id"]] = total
            charge = {
                "id": f"ch_local_{intent['id'][3:]}",
                "object": "charge",
                "payment_intent": intent["id"],
                "amount": intent["amount"],
                "amount_refunded": total,
                "currency": intent["currency"],
                "refunded": total >= int(intent["amount"]),
                "metadata": intent.get("metadata") or {},
            }
            self._deliver(event("charge.refunded", charge))
        elif path.startswith("/v1/payment_intents/") and path.endswith("/cancel"):
            self._deliver(event("payment_intent.canceled", body))

    def _deliver(self, payload: dict[str, Any]) -> None:
        def post() -> None:
            text = json.dumps(payload)
            try:
                requests.post(
                    self.webhook_url,
                    data=text,
                    headers={"Content-Type": "application/json", "Stripe-Signature": sign(text, self.secret)},
                    timeout=30,
                )
            except requests.RequestException as error:
                log.warning("could not deliver %s: %s", payload["type"], error)

        threading.Timer(0.2, post).start()  # after the caller got its answer, as Stripe does
