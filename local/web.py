"""The web apps (`web/dist`, built by `make web`) served at their own origin, as CloudFront serves them.

A separate origin from the API (`127.0.0.1:8080` against the API's `:3000`), so every call the
storefront and the console make goes through the API's real CORS path. `config.json` is not a file
of the build: it is answered from memory with the running stack's values (API URL, user pool, moto's
Cognito endpoint, localstripe's key and Stripe.js stand-in) — the same shape `make deploy` writes
from the stack outputs. When `web/dist` is missing the stack still starts; the page at `/` says how
to build the apps.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("local.web")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIST = REPO_ROOT / "web" / "dist"
DEFAULT_PORT = 8080
# localstripe takes any `pk_test_` key; Stripe.js needs one to start.
PUBLISHABLE_KEY = "pk_test_storekeeper_local"

_NOT_BUILT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Web apps not built</title></head>
<body><main>
<h1>The web apps are not built yet</h1>
<p>Run <code>make web</code> (or <code>make run</code>, which builds them first), then reload this page.</p>
</main></body></html>
"""


def web_config(
    *,
    api_url: str,
    region: str,
    user_pool_id: str | None,
    user_pool_client_id: str | None,
    cognito_endpoint: str,
    stripe_url: str | None,
    publishable_key: str,
) -> dict[str, str]:
    """The apps' `config.json` for the local stack (camelCase; web/src/shared/config.ts reads it)."""
    stripe = (stripe_url or "").rstrip("/")
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id or "",
        "userPoolClientId": user_pool_client_id or "",
        "cognitoEndpoint": cognito_endpoint,
        "stripePublishableKey": publishable_key,
        "stripeJsUrl": f"{stripe}/js.stripe.com/v3/" if stripe else "",
    }


def _handler(server: WebServer) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        """Static files of `dist`, `/config.json` from memory, HTML and config never cached (a rebuild
        or a restarted stack shows at the next reload), hashed assets cached for good."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(server.dist), **kwargs)

        def do_GET(self) -> None:  # http.server's naming
            if not self._answered_from_memory():
                super().do_GET()

        def do_HEAD(self) -> None:
            if not self._answered_from_memory():
                super().do_HEAD()

        def _answered_from_memory(self) -> bool:
            if urlsplit(self.path).path == "/config.json":
                self._answer(HTTPStatus.OK, server.config_json, "application/json")
                return True
            if not server.built:
                self._answer(HTTPStatus.SERVICE_UNAVAILABLE, _NOT_BUILT.encode(), "text/html; charset=utf-8")
                return True
            return False

        def _answer(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def end_headers(self) -> None:
            hashed = "/assets/" in urlsplit(self.path).path  # Vite's content-hashed files
            self.send_header("Cache-Control", "public, max-age=31536000, immutable" if hashed else "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    Handler.extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }
    return Handler


class WebServer:
    """`dist` at `http://host:port/` on a daemon thread. The port is bound at construction (the API's
    `AllowedOrigins` needs the origin before the stack is built); `start(config)` serves, once the
    stack knows the values of `config.json`."""

    def __init__(self, dist: Path = DEFAULT_DIST, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.dist = dist
        self.config_json = b"{}"
        self._server = ThreadingHTTPServer((host, port), _handler(self), bind_and_activate=True)
        self._server.daemon_threads = True
        self.port: int = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    @property
    def origins(self) -> list[str]:
        """The origins a browser may show the apps under (127.0.0.1 and its name, localhost)."""
        return [self.url, self.url.replace("//127.0.0.1:", "//localhost:")]

    def start(self, config: dict[str, str]) -> None:
        self.config_json = json.dumps(config, indent=2).encode()
        if not self.built:
            log.warning("%s has no built web apps: run `make web` (the stack starts without them)", self.dist)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def with_origins(parameters: dict[str, str], default_origins: str, first: list[str]) -> dict[str, str]:
    """Template parameters whose `AllowedOrigins` lets the web apps' origins call the API. They go
    first: the gateway's own error answers (401, 404, 429) carry only the first origin, and the web
    apps are the local stack's browser clients."""
    current = [o for o in parameters.get("AllowedOrigins", default_origins).split(",") if o]
    rest = [o for o in current if o not in first]
    return {**parameters, "AllowedOrigins": ",".join([*first, *rest])}
