"""The running local stack trusts only what this run made: ID tokens from its own user pool (signed with
a key generated at start), and fault injection from whoever can read its state dir."""

import time
from collections.abc import Callable
from pathlib import Path

import boto3
import jwt
import pytest
import requests
from moto.utilities.utils import load_resource

from local.cognito import DEMO_PASSWORD
from local.stripe import FAULTS_PATH, FAULTS_SECRET_HEADER, clear_faults
from local.template import REGION
from tests.e2e.localstack import LocalStack

pytestmark = pytest.mark.e2e
Http = Callable[..., requests.Response]


def test_an_admin_token_signed_with_motos_published_key_is_refused(stack: LocalStack, http: Http) -> None:
    state = stack.state()
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{state['userPoolId']}",
        "sub": "intruder",
        "aud": state["userPoolClientId"],
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "cognito:groups": ["admin"],
    }
    bundled = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    forged = jwt.encode(claims, bundled.key, algorithm="RS256", headers={"kid": "dummy"})
    assert http("GET", "/admin/orders", token=forged).status_code == 401


def test_sign_in_through_the_pool_gives_a_token_the_gateway_accepts(stack: LocalStack, http: Http) -> None:
    stack.token("dave@example.com")  # makes the user, with the demo password
    state = stack.state()
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=state["awsEndpoint"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    answer = idp.initiate_auth(
        ClientId=state["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "dave@example.com", "PASSWORD": DEMO_PASSWORD},
    )
    token = answer["AuthenticationResult"]["IdToken"]
    assert http("GET", "/me/orders", token=token).status_code == 200


def test_the_stripe_fault_switch_wants_the_runs_secret(stack: LocalStack) -> None:
    state = stack.state()
    url = state["stripeUrl"] + FAULTS_PATH
    fault = {"method": "POST", "path": "/v1/payment_intents", "status": 500, "times": 1000}
    assert requests.post(url, json=fault, timeout=5).status_code == 403
    assert requests.post(url, json=fault, headers={FAULTS_SECRET_HEADER: "guess"}, timeout=5).status_code == 403
    secret_file = Path(state["faultsSecretFile"])
    assert secret_file.parent == stack.state_dir
    assert secret_file.stat().st_mode & 0o077 == 0
    assert clear_faults(state) == {"faults": []}  # the refused calls switched nothing on
