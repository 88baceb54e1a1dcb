"""The local stack's own credentials are made per run: ID tokens are signed with a key generated at start
(moto's bundled key is public), and the Stripe fault switch wants the run's secret."""

import json
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from moto.server import ThreadedMotoServer
from moto.utilities.utils import load_resource
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local.gateway import CognitoVerifier, Gateway
from local.moto_patches import install_signing_key
from local.stripe import FAULTS_PATH, FAULTS_SECRET_HEADER, StripeProxy, write_faults_secret
from local.template import REGION, Route

PASSWORD = "Correct-Horse-9-Battery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def pool() -> Iterator[dict[str, Any]]:
    """A user pool in a moto server of this process, made after the run's key was installed."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    undo = install_signing_key()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pool_id = idp.create_user_pool(PoolName="shoppers", UsernameAttributes=["email"])["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        email = "carol@example.com"
        idp.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
        yield {"endpoint": endpoint, "idp": idp, "pool_id": pool_id, "client_id": client_id, "email": email}
    finally:
        undo()
        server.stop()


def _verifier(pool: dict[str, Any]) -> CognitoVerifier:
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool['pool_id']}"
    return CognitoVerifier(f"{pool['endpoint']}/{pool['pool_id']}/.well-known/jwks.json", issuer, [pool["client_id"]])


def _signed_in(pool: dict[str, Any]) -> str:
    """An ID token from the pool's own sign-in API, as a web client gets one."""
    answer = pool["idp"].initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": pool["email"], "PASSWORD": PASSWORD},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def _forged(pool: dict[str, Any], group: str = "admin") -> str:
    """What anyone with moto installed can make: a well-formed ID token signed with moto's bundled key."""
    bundled = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{pool['pool_id']}",
        "sub": "intruder",
        "aud": pool["client_id"],
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "email": "intruder@example.com",
        "cognito:groups": [group],
    }
    return jwt.encode(claims, bundled.key, algorithm="RS256", headers={"kid": "dummy"})


def test_tokens_from_the_pools_sign_in_are_accepted(pool: dict[str, Any]) -> None:
    claims = _verifier(pool).claims(f"Bearer {_signed_in(pool)}")
    assert claims is not None and claims["token_use"] == "id"


def test_a_token_signed_with_motos_published_key_is_refused(pool: dict[str, Any]) -> None:
    assert _verifier(pool).claims(f"Bearer {_forged(pool)}") is None
    # ...and the gateway answers 401 without calling the function
    called: list[Any] = []

    class Dispatcher:
        def call(self, name: str, event: Any) -> Any:
            called.append(event)
            return {"statusCode": 200, "body": "{}"}

    gateway = Gateway(
        [Route("POST", "/products", "CatalogApi", "Cognito")],
        Dispatcher(),
        {"Cognito": _verifier(pool)},
        stage="dev",
    )
    forged = {"Authorization": f"Bearer {_forged(pool)}"}
    request = Request(EnvironBuilder(method="POST", path="/products", headers=Headers(forged)).get_environ())
    assert gateway.handle(request).status_code == 401
    assert called == []


def test_the_pools_keys_are_the_runs_own(pool: dict[str, Any]) -> None:
    published = requests.get(f"{pool['endpoint']}/{pool['pool_id']}/.well-known/jwks.json", timeout=5).json()
    bundled = load_resource("cognitoidp/resources/jwks-private.json")
    assert [key["n"] for key in published["keys"]] != [bundled["n"]]
    assert all("d" not in key for key in published["keys"]), "the JWKS must not publish the private half"


# ---------------------------------------------------------------- the Stripe fault switch


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[StripeProxy, str]]:
    secret = write_faults_secret(tmp_path).read_text()
    running = StripeProxy("http://127.0.0.1:9", "http://127.0.0.1:9/webhook", "whsec_x", 0, faults_secret=secret)
    running.start()
    yield running, secret
    running.stop()


def test_the_fault_secret_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = write_faults_secret(tmp_path).read_text()
    path = write_faults_secret(tmp_path)  # the next run's
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text()) >= 32 and path.read_text() != first


def test_the_fault_switch_refuses_callers_without_the_runs_secret(proxy: tuple[StripeProxy, str]) -> None:
    running, secret = proxy
    fault = {"method": "POST", "path": "/v1/payment_intents", "status": 500, "times": 1}
    url = running.url + FAULTS_PATH
    assert requests.post(url, json=fault, timeout=5).status_code == 403
    assert requests.post(url, json=fault, headers={FAULTS_SECRET_HEADER: "guess"}, timeout=5).status_code == 403
    assert requests.delete(url, timeout=5).status_code == 403
    # Nothing was switched on: with the secret, the list is still empty
    listed = requests.delete(url, headers={FAULTS_SECRET_HEADER: secret}, timeout=5)
    assert listed.status_code == 200 and listed.json() == {"faults": []}
    # And with it, a fault is set, and the next matching call fails as asked
    assert requests.post(url, json=fault, headers={FAULTS_SECRET_HEADER: secret}, timeout=5).status_code == 200
    failed = requests.post(running.url + "/v1/payment_intents", data={"amount": 100}, timeout=5)
    assert failed.status_code == 500
    assert json.loads(failed.text)["error"]["message"] == "injected by the local stack"
