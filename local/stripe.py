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
import re
import secrets
import signal
import socket
import struct
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
    """The PaymentIntent created for `order_id`, searched page by page (a list answers 100 at most: a shop
    that took more orders than that must still be payable)."""
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = requests.get(f"{base_url}/v1/payment_intents", auth=(SECRET_KEY, ""), params=params, timeout=5)
        response.raise_for_status()
        page = response.json()
        intents = page.get("data", [])
        for intent in intents:
            if (intent.get("metadata") or {}).get("orderId") == order_id:
                return dict(intent)
        if not page.get("has_more") or not intents:
            break
        params["starting_after"] = intents[-1]["id"]
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


# ----------------------------------------------------------------------- Stripe's fee (localstripe charges none)

FEE_PERCENT_TENTHS = 15
"""Stripe's fee locally: 1.5 % of the charge..."""
FEE_FIXED = 25
"""...plus 0.25 (in minor units of the charge's currency): Stripe's standard rate for EEA cards."""
BALANCE_PATHS = ("/v1/balance_transactions/", "/v1/balance/history/")


def stripe_fee(amount: int) -> int:
    """The local Stripe's fee for a charge of `amount` minor units: 1.5 % rounded half up to the minor
    unit, plus 25 (1000 → 15 + 25 = 40; 1033 → 15.495 → 15, + 25 = 40; 1034 → 15.51 → 16, + 25 = 41).
    Integer arithmetic only, so no binary fraction ever rounds the wrong way."""
    return (amount * FEE_PERCENT_TENTHS + 500) // 1000 + FEE_FIXED


def with_fee(transaction: dict[str, Any]) -> dict[str, Any]:
    """localstripe's balance transaction (fee always 0) as Stripe would answer it: a charge's carries
    `stripe_fee` (and its `fee_details`), its net `amount - fee`. A refund's keeps a fee of 0 (Stripe
    keeps its processing fee when a payment is refunded), so its net is its (negative) amount."""
    amount = int(transaction.get("amount") or 0)
    fee = stripe_fee(amount) if transaction.get("type") == "charge" and amount > 0 else 0
    details = [{"amount": fee, "currency": transaction.get("currency"), "type": "stripe_fee", "description": None}]
    return transaction | {"fee": fee, "net": amount - fee, "fee_details": details if fee else []}


FAULTS_PATH = "/_storekeeper/faults"
FAULTS_SECRET_HEADER = "X-Storekeeper-Faults-Secret"  # noqa: S105 - a header's name
FAULTS_SECRET_FILE = "stripe-faults.secret"  # noqa: S105 - a file's name


def write_faults_secret(state_dir: Path) -> Path:
    """A new secret for the fault switch, in a file only this user may read (0600), under the state
    dir: whoever may read the stack's state may break its Stripe, nobody else on the machine."""
    path = state_dir / FAULTS_SECRET_FILE
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(32))
    return path


def _faults_request(state: dict[str, Any], method: str, fault: dict[str, Any] | None = None) -> dict[str, Any]:
    secret = Path(state["faultsSecretFile"]).read_text(encoding="utf-8").strip()
    response = requests.request(
        method, state["stripeUrl"] + FAULTS_PATH, json=fault, headers={FAULTS_SECRET_HEADER: secret}, timeout=5
    )
    response.raise_for_status()
    return dict(response.json())


def inject_fault(state: dict[str, Any], fault: dict[str, Any]) -> dict[str, Any]:
    """Make the running stack's Stripe fail: `fault` is `{"method", "path", "status", "times"}`
    (see `StripeProxy`); `state` is the stack's state file (`local.stack.read_state`)."""
    return _faults_request(state, "POST", fault)


def clear_faults(state: dict[str, Any]) -> dict[str, Any]:
    return _faults_request(state, "DELETE")


def faults(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The faults in place, each with the `times` it has left."""
    return list(_faults_request(state, "GET")["faults"])


def remove_fault(state: dict[str, Any], fault_id: str) -> dict[str, Any]:
    """Clear the one fault injected with `"id": fault_id` (others stay)."""
    return _faults_request(state, "DELETE", {"id": fault_id})


STRIPE_JS_PATH = "/js.stripe.com/v3/"
CONFIRM_CARD_PATH = "/_storekeeper/confirm_card_payment"
DECLINED_WHEN_ATTACHED = frozenset(
    ("4000000000000002", "4000000000009995", "4000000000009987", "4000000000009979", "4000000000000069")
)
"""Stripe's test cards that decline a payment (generic, insufficient funds, lost, stolen, expired)."""
DECLINED_CHARGE = "4000000000000341"
"""The card localstripe declines when charged."""

STRIPE_JS_PATCH = """
// Appended by the local stack (local/stripe.py): localstripe's confirmCardPayment only completes a
// 3-D Secure step, so it cannot pay a PaymentIntent made without a card, as the shop's are. This one
// sends the card typed in the Element with the publishable key and the client secret, as Stripe.js does.
(function () {
  const localStripe = Stripe;
  Stripe = (apiKey) => {
    const stripe = localStripe(apiKey);
    const authenticate = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const element = data && data.payment_method && data.payment_method.card;
      if (!element || !element.value) {
        const message = 'Your card number is incomplete.';
        return {error: {type: 'validation_error', code: 'incomplete_number', message}};
      }
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/_storekeeper/confirm_card_payment`, {
          method: 'POST',
          body: JSON.stringify({key: apiKey, client_secret: clientSecret, card: element.value.card}),
        });
        const body = await response.json().catch(() => ({}));
        if (response.status !== 200 || body.error) {
          return {error: body.error || {message: `HTTP ${response.status}`}};
        }
        if (body.status === 'requires_action') {
          return authenticate(clientSecret, data);  // a 3-D Secure test card: localstripe's own dialog
        }
        return {paymentIntent: body};
      } catch (err) {
        return {error: {type: 'api_connection_error', message: String(err)}};
      }
    };
    return stripe;
  };
})();
"""


def _cors(response: Response) -> Response:
    """Stripe's API answers browsers on any origin (the publishable key is public)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _stripe_error(status: int, kind: str, message: str, code: str | None = None) -> Response:
    error = {"type": kind, "message": message} | ({"code": code} if code else {})
    return _cors(Response(json.dumps({"error": error}), status=status, content_type="application/json"))


class StripeProxy:
    """What the functions see as Stripe locally: localstripe behind a proxy that, where localstripe sends
    no webhook (refunds, cancellations), posts the event Stripe would send, signed with the webhook
    secret, shortly after the call succeeded — so the same webhook code runs locally as in AWS. Balance
    transactions are answered with Stripe's fee (`with_fee`), which localstripe leaves at 0."""

    def __init__(self, upstream: str, webhook_url: str, secret: str, port: int, *, faults_secret: str) -> None:
        self.upstream = upstream
        self.webhook_url = webhook_url
        self.secret = secret
        self.faults_secret = faults_secret
        self._refunded: dict[str, int] = {}
        self._faults: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._answered: dict[str, tuple[int, bytes, str | None]] = {}
        self._key_locks: dict[str, threading.Lock] = {}
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
        if request.path == STRIPE_JS_PATH and request.method == "GET":
            return self._stripe_js()(environ, start_response)
        if request.path == CONFIRM_CARD_PATH:
            return self._confirm_card_payment(request)(environ, start_response)
        fault = self._take_fault(request.method, request.path, request.get_data(as_text=True))
        if fault is not None and not fault.get("after"):
            return self._fail(fault, environ)(environ, start_response)
        status, content, content_type = self._forward(request)
        if request.method == "GET" and request.path.startswith(BALANCE_PATHS) and status == 200:
            content = json.dumps(with_fee(json.loads(content))).encode()
        if fault is not None:  # Stripe acted, but its answer is lost on the way back
            return self._fail(fault, environ)(environ, start_response)
        return Response(content, status=status, content_type=content_type)(environ, start_response)

    def _forward(self, request: Request) -> tuple[int, bytes, str | None]:
        """Send the call to localstripe. A POST with an `Idempotency-Key` seen before is answered what it
        was answered the first time, as Stripe does (localstripe ignores the header): a retry after a lost
        answer must not create or refund twice locally when it would not on Stripe."""
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is None:
            return self._call_upstream(request)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._answered:
                return self._answered[key]
            answer = self._call_upstream(request)
            if answer[0] < 400:  # Stripe saves no result for a request that failed validation
                self._answered[key] = answer
            return answer

    def _call_upstream(self, request: Request) -> tuple[int, bytes, str | None]:
        upstream = requests.request(
            request.method,
            f"{self.upstream}{request.full_path.rstrip('?')}",
            data=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
            timeout=30,
        )
        if request.method == "POST" and upstream.ok:
            self._follow_up(request.path, upstream.json())
        return upstream.status_code, upstream.content, upstream.headers.get("Content-Type")

    @staticmethod
    def _fail(fault: dict[str, Any], environ: dict[str, Any]) -> Response:
        """The fault's effect: an error status (500, 429...), an answer slower than any client waits
        (`timeout`), or the connection dropped without an answer (`reset`)."""
        kind = fault.get("kind", "status")
        if kind == "timeout":
            time.sleep(float(fault.get("delay", 10)))
        elif kind == "reset":
            connection = environ.get("werkzeug.socket")
            if connection is not None:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            raise ConnectionResetError("fault injected by the local stack: connection dropped")
        body = json.dumps({"error": {"type": "api_error", "message": "injected by the local stack"}})
        return Response(body, status=int(fault.get("status", 500)), content_type="application/json")

    def _configure_faults(self, request: Request) -> Response:
        """`POST /_storekeeper/faults {"method", "path", "status", "times"}`: the next `times` calls whose
        path starts with `path` answer `status` (tests make Stripe fail); `DELETE` clears them. Only with
        the run's secret in `X-Storekeeper-Faults-Secret` (`inject_fault` sends it); else 403."""
        given = request.headers.get(FAULTS_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.faults_secret.encode()):
            body = json.dumps({"error": {"type": "forbidden", "message": f"{FAULTS_SECRET_HEADER} required"}})
            return Response(body, status=403, content_type="application/json")
        with self._lock:
            given_fault = dict(json.loads(request.get_data() or b"{}") or {})
            if request.method == "GET":
                pass
            elif request.method == "DELETE" and given_fault.get("id"):
                self._faults = [f for f in self._faults if f.get("id") != given_fault["id"]]
            elif request.method == "DELETE":
                self._faults.clear()
            else:
                self._faults.append(given_fault)
            return Response(json.dumps({"faults": self._faults}), content_type="application/json")

    def _take_fault(self, method: str, path: str, body: str) -> dict[str, Any] | None:
        """The first fault that applies to this call, counted down; None if none does. A fault applies to
        calls with its `method`, a path starting with its `path`, and `match` in the path or the body."""
        with self._lock:
            for fault in self._faults:
                if (
                    fault.get("method", method) == method
                    and path.startswith(fault["path"])
                    and str(fault.get("match", "")) in f"{path} {body}"
                    and fault["times"] > 0
                ):
                    fault["times"] -= 1
                    return dict(fault)
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

    def _stripe_js(self) -> Response:
        """localstripe's stand-in for Stripe.js with `confirmCardPayment` completed (`STRIPE_JS_PATCH`)."""
        upstream = requests.get(f"{self.upstream}{STRIPE_JS_PATH}", timeout=10)
        if not upstream.ok:
            return Response(upstream.content, status=upstream.status_code, content_type="text/plain")
        script = upstream.text + "\n" + STRIPE_JS_PATCH
        response = Response(script, content_type="application/javascript; charset=utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = "no-store"
        return response

    def _confirm_card_payment(self, request: Request) -> Response:
        """`confirmCardPayment(clientSecret, {payment_method: {card}})` as Stripe does it for a browser:
        with the publishable key and the PaymentIntent's client secret only (never the secret key), the
        card typed in the Element becomes the intent's payment method and the intent is confirmed. The
        secret key used towards localstripe stays here. Answers the intent, or `{"error"}` as Stripe.js."""
        if request.method == "OPTIONS":
            return _cors(Response(status=204))
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _stripe_error(400, "invalid_request_error", "a JSON body is required")
        key, client_secret, card = body.get("key"), body.get("client_secret"), body.get("card")
        if not (isinstance(key, str) and key.startswith("pk_")):
            return _stripe_error(401, "invalid_request_error", "a publishable key is required")
        if not isinstance(client_secret, str) or not isinstance(card, dict):
            return _stripe_error(400, "invalid_request_error", "client_secret and card are required")
        found = re.match(r"^(pi_\w+)_secret_", client_secret)
        if found is None:
            return _stripe_error(400, "invalid_request_error", "not a PaymentIntent's client secret")
        auth = (SECRET_KEY, "")
        url = f"{self.upstream}/v1/payment_intents/{found.group(1)}"
        intent = requests.get(url, auth=auth, timeout=10)
        known = str(intent.json().get("client_secret")) if intent.ok else ""
        if not known or not hmac.compare_digest(known.encode(), client_secret.encode()):
            return _stripe_error(401, "invalid_request_error", "no such payment intent for this client secret")
        number = re.sub(r"\D", "", str(card.get("number", "")))
        if number in DECLINED_WHEN_ATTACHED:
            number = DECLINED_CHARGE  # localstripe declines these only on attaching to a customer; Stripe on paying
        method = requests.post(
            f"{self.upstream}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": str(card.get("exp_month", "")),
                "card[exp_year]": str(card.get("exp_year", "")),
                "card[cvc]": str(card.get("cvc", "")),
            },
            auth=auth,
            timeout=10,
        )
        if not method.ok:
            return _stripe_error(402, "card_error", "Your card details are incomplete or invalid.", "incorrect_number")
        attached = requests.post(url, data={"payment_method": method.json()["id"]}, auth=auth, timeout=10)
        if not attached.ok:
            return _cors(Response(attached.content, status=attached.status_code, content_type="application/json"))
        confirmed = requests.post(f"{url}/confirm", auth=auth, timeout=30)
        if not confirmed.ok:
            error = (confirmed.json() if confirmed.content else {}).get("error") or {}
            message = error.get("message") or "Your card was declined."
            return _stripe_error(402, "card_error", message, error.get("code") or "card_declined")
        return _cors(Response(confirmed.content, content_type="application/json"))

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
