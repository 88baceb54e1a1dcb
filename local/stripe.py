"""localstripe, the local Stripe: started as a subprocess (it is GPL: never imported, never shipped).

The process gets its own process group so that stopping the stack kills it and anything it spawned,
even when the stack dies by SIGTERM; `stop` is idempotent and is also registered with `atexit`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

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
