"""`local.web`: the web apps served at an origin of their own, with the running stack's `config.json`,
and that origin first in the API's AllowedOrigins."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.web import WebServer, web_config, with_origins


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "admin").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<title>shop</title>")
    (tmp_path / "admin" / "index.html").write_text("<title>console</title>")
    (tmp_path / "assets" / "store-abc123.js").write_text("export {}")
    return tmp_path


def serve(dist: Path, config: dict[str, str]) -> Iterator[WebServer]:
    server = WebServer(dist, port=0)
    server.start(config)
    try:
        yield server
    finally:
        server.stop()


CONFIG = web_config(
    api_url="http://127.0.0.1:3000",
    region="eu-west-1",
    user_pool_id="eu-west-1_pool",
    user_pool_client_id="client",
    cognito_endpoint="http://127.0.0.1:5050",
    stripe_url="http://127.0.0.1:8420",
    publishable_key="pk_test_x",
)


def test_the_apps_and_their_config_are_served_with_the_stacks_values(dist: Path) -> None:
    for server in serve(dist, CONFIG):
        # When a browser loads the storefront, the console and the config beside them
        config = requests.get(f"{server.url}/config.json", timeout=5)
        shop = requests.get(f"{server.url}/", timeout=5)
        console = requests.get(f"{server.url}/admin/", timeout=5)
        asset = requests.get(f"{server.url}/assets/store-abc123.js", timeout=5)

        # Then config.json names the stack (Stripe.js from the local Stripe) and is never cached
        assert config.json() == CONFIG
        assert CONFIG["stripeJsUrl"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
        assert config.headers["Cache-Control"] == "no-store"
        # And the pages are the builds', hashed assets cached for good, with a JavaScript type
        assert "shop" in shop.text and "console" in console.text
        assert shop.headers["Cache-Control"] == "no-store"
        assert "immutable" in asset.headers["Cache-Control"]
        assert asset.headers["Content-Type"].startswith("text/javascript")


def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path) -> None:
    for server in serve(tmp_path / "missing", CONFIG):
        page = requests.get(f"{server.url}/", timeout=5)
        assert page.status_code == 503
        assert "make web" in page.text
        assert json.loads(requests.get(f"{server.url}/config.json", timeout=5).text)["apiUrl"]


def test_the_web_origins_go_first_in_allowed_origins_once() -> None:
    origins = ["http://127.0.0.1:8080", "http://localhost:8080"]
    defaults = "http://localhost:5173,http://127.0.0.1:5173"
    assert with_origins({}, defaults, origins)["AllowedOrigins"] == ",".join([*origins, defaults])
    again = with_origins({"AllowedOrigins": "https://a.test,http://127.0.0.1:8080"}, defaults, origins)
    assert again["AllowedOrigins"] == "http://127.0.0.1:8080,http://localhost:8080,https://a.test"
