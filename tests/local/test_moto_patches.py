"""Smoke tests of the local stack's moto patches (`local.moto_patches`) against the installed moto.

Each fails when its patch stops applying or stops changing what it is there for — the first sign that
a moto upgrade needs the patch re-read — and the pinned moto is held equal to the version the patches
were written for.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from moto import mock_aws
from moto.utilities.utils import load_resource

from local import moto_patches
from local.moto_patches import (
    WRITTEN_FOR,
    MotoPatchError,
    install_item_snapshots,
    install_parse_cache,
    install_signing_key,
    version_warning,
)

REGION = "eu-west-1"
REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements-dev.txt"


# ---------------------------------------------------------------------------- the version
def test_the_patches_were_written_for_the_pinned_moto() -> None:
    # Given the moto requirements-dev.txt pins
    pins = re.findall(r"^moto(?:\[[^\]]*\])?==(\S+)", REQUIREMENTS.read_text(encoding="utf-8"), re.MULTILINE)
    # Then it is the one the patches were written for: moving the pin means re-running this file and
    # then moving `WRITTEN_FOR`
    assert pins == [WRITTEN_FOR]


def test_another_moto_gets_a_loud_warning_once(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    # Given another moto installed
    assert version_warning(WRITTEN_FOR) is None
    monkeypatch.setattr(moto_patches, "installed_moto", lambda: "9.9.9")
    moto_patches._check_version.cache_clear()
    try:
        # When two patches are installed
        with caplog.at_level(logging.WARNING, logger="local.moto_patches"):
            install_parse_cache()()
            install_item_snapshots()()
    finally:
        moto_patches._check_version.cache_clear()
    # Then one warning names both versions and what to run
    warnings = [r.getMessage() for r in caplog.records if r.name == "local.moto_patches"]
    assert len(warnings) == 1
    assert "MOTO VERSION MISMATCH" in warnings[0] and "9.9.9" in warnings[0] and WRITTEN_FOR in warnings[0]
    assert "tests/local/test_moto_patches.py" in warnings[0]


def test_a_moto_without_what_a_patch_replaces_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cognitoidp import responses
    from moto.dynamodb import models
    from moto.stepfunctions.parser.asl.parse import asl_parser

    # Given motos that moved what each patch replaces, each patch refuses to install
    with monkeypatch.context() as moved:
        moved.delattr(asl_parser.AmazonStateLanguageParser, "parse")
        with pytest.raises(MotoPatchError, match="parse cache"):
            install_parse_cache()
    with monkeypatch.context() as moved:
        moved.delattr(models, "copy")
        with pytest.raises(MotoPatchError, match="item snapshots"):
            install_item_snapshots()
    with monkeypatch.context() as moved:
        moved.delattr(responses.CognitoIdpJsonWebKeyResponse, "json_web_key")
        with pytest.raises(MotoPatchError, match="signing key"):
            install_signing_key()


# ---------------------------------------------------------------------------- 1. item snapshots
@pytest.fixture
def table_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tables moto deep-copies from now on (the copy is skipped: only the count matters)."""
    from moto.dynamodb.models.table import Table

    copied: list[str] = []

    def spy(self: Any, memo: Any) -> Any:
        copied.append(self.name)
        return self

    monkeypatch.setattr(Table, "__deepcopy__", spy, raising=False)
    return copied


def test_a_transaction_copies_no_table(table_copies: list[str]) -> None:
    undo = install_item_snapshots()
    try:
        with mock_aws():
            # Given a table with an item
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            dynamodb.create_table(
                TableName="stock",
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            dynamodb.put_item(TableName="stock", Item={"PK": {"S": "SKU#A"}, "n": {"N": "5"}})
            take: Any = {
                "Update": {
                    "TableName": "stock",
                    "Key": {"PK": {"S": "SKU#A"}},
                    "UpdateExpression": "SET n = n - :q",
                    "ConditionExpression": "n >= :q",
                    "ExpressionAttributeValues": {":q": {"N": "3"}},
                }
            }
            # When one transaction commits and the next one fails its condition
            dynamodb.transact_write_items(TransactItems=[take])
            with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
                dynamodb.transact_write_items(TransactItems=[take])
            # Then no table was copied, and the failed one changed nothing
            item = dynamodb.get_item(TableName="stock", Key={"PK": {"S": "SKU#A"}})["Item"]
    finally:
        undo()
    assert table_copies == []
    assert item["n"] == {"N": "2"}


# ---------------------------------------------------------------------------- 2. parse cache
@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per run of moto's ANTLR parser over a state machine definition."""
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser

    counted: list[str] = []

    class CountingParser(ASLParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            counted.append("parse")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(asl_parser, "ASLParser", CountingParser)
    return counted


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        execution: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running after 20 s")


def test_executions_of_one_machine_parse_its_definition_once(parses: list[str]) -> None:
    undo = install_parse_cache()
    # A definition no earlier test can have parsed (the cache is per definition text, per process)
    definition = json.dumps(
        {"Comment": f"smoke {uuid.uuid4()}", "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    )
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            # Given a state machine
            sfn = boto3.client("stepfunctions", region_name=REGION)
            machine = sfn.create_state_machine(
                name="smoke", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
            )["stateMachineArn"]
            # When it runs twice, with different inputs
            results = []
            for n in (1, 2):
                arn = sfn.start_execution(stateMachineArn=machine, name=f"run-{n}", input=f'{{"n": {n}}}')[
                    "executionArn"
                ]
                results.append(_finished(sfn, arn))
    finally:
        undo()
    # Then the definition was parsed once (at create), and each execution ran on its own input
    assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED"]
    assert [json.loads(r["output"]) for r in results] == [{"n": 1}, {"n": 2}]
    assert parses == ["parse"]


# ---------------------------------------------------------------------------- 3. signing key
@pytest.fixture
def pool_token() -> Iterator[tuple[str, dict[str, Any]]]:
    """An ID token from a pool made after the run's key was installed, and the JWKS that pool serves."""
    undo = install_signing_key()
    try:
        with mock_aws():
            idp = boto3.client("cognito-idp", region_name=REGION)
            pool_id = idp.create_user_pool(PoolName="shoppers")["UserPool"]["Id"]
            client_id = idp.create_user_pool_client(
                UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
            )["UserPoolClient"]["ClientId"]
            idp.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS")
            idp.admin_set_user_password(
                UserPoolId=pool_id, Username="carol", Password="Correct-Horse-9-Battery", Permanent=True
            )
            token = idp.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "carol", "PASSWORD": "Correct-Horse-9-Battery"},
            )["AuthenticationResult"]["IdToken"]
            jwks = requests.get(
                f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}/.well-known/jwks.json", timeout=5
            ).json()
            yield str(token), jwks
    finally:
        undo()


def test_pools_sign_with_the_runs_key_not_motos_bundled_one(pool_token: tuple[str, dict[str, Any]]) -> None:
    token, jwks = pool_token
    options: Any = {"verify_aud": False, "verify_iss": False}
    # The JWKS the pool serves verifies its tokens
    served = jwt.PyJWK(jwks["keys"][0])
    assert jwt.decode(token, served.key, algorithms=["RS256"], options=options)["cognito:username"] == "carol"
    # ...and moto's bundled key, whose private half anyone has, does not
    bundled = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-public.json")["keys"][0])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, bundled.key, algorithms=["RS256"], options=options)
