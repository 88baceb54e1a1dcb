"""The workers' opt-in profiler (`LOCAL_PROFILE`), which the checkout benchmark reads: each invoke handed to
the listeners with the handler's own start and end and every AWS call inside it; nothing at all when off."""

import os
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.workers import (
    PROFILE_ENV,
    Environment,
    Invocation,
    InvokeError,
    Pools,
    add_profile_listener,
    remove_profile_listener,
)

HANDLERS = '''
import sys
import time


def calls_dynamodb(event, context):
    """Two stubbed DynamoDB calls (no network: botocore answers from the stub), with our work around them."""
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response("get_item", {"Item": {"pk": {"S": "A"}}})
        stub.add_response(
            "transact_write_items", {}, {"TransactItems": [{"Put": {"TableName": "t", "Item": {}}}] * 3}
        )
        time.sleep(0.05)
        client.get_item(TableName="t", Key={"pk": {"S": "A"}}, ConsistentRead=True)
        client.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {}}}] * 3)
    return {"ok": True}


def fails(event, context):
    time.sleep(0.02)
    raise ValueError("no")


def modules(event, context):
    return {"botocore": "botocore" in sys.modules, "cProfile": "cProfile" in sys.modules}
'''


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiled")
    (root / "profiled.py").write_text(textwrap.dedent(HANDLERS))
    return root


def _pools(code: Path) -> Pools:
    return Pools(
        [
            Environment(
                name=name,
                arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{name}",
                handler=f"profiled.{name}",
                paths=(str(code),),
                variables={"PATH": os.environ["PATH"]},
                timeout=10,
                memory=128,
            )
            for name in ("calls_dynamodb", "fails", "modules")
        ],
        size=1,
    )


@pytest.fixture
def heard() -> Iterator[list[Invocation]]:
    invocations: list[Invocation] = []
    lock = threading.Lock()

    def listen(invocation: Invocation) -> None:
        with lock:
            invocations.append(invocation)

    add_profile_listener(listen)
    yield invocations
    remove_profile_listener(listen)


def test_a_profiled_invoke_reports_the_handlers_time_and_each_aws_call_inside_it(
    code: Path, heard: list[Invocation], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given workers started with the profiler asked for
    monkeypatch.setenv(PROFILE_ENV, "1")
    pools = _pools(code)
    try:
        # When a handler makes two AWS calls around its own work
        assert pools.invoke("calls_dynamodb", {"order": "o-1"}) == {"ok": True}
    finally:
        pools.stop()
    # Then the listener hears the invoke, its event, and the calls in order, inside the handler's time
    (invocation,) = heard
    assert (invocation.function, invocation.event, invocation.failed) == ("calls_dynamodb", {"order": "o-1"}, False)
    assert invocation.sent <= invocation.start < invocation.end <= invocation.answered
    assert invocation.end - invocation.start >= 0.05  # the handler's own sleep is in its time
    get, transact = invocation.calls
    assert (get.kind, get.name, get.items, get.consistent) == ("aws", "dynamodb.GetItem", 1, True)
    assert (transact.name, transact.items, transact.consistent) == ("dynamodb.TransactWriteItems", 3, False)
    assert invocation.start <= get.start <= get.end <= transact.start <= transact.end <= invocation.end
    assert get.start - invocation.start >= 0.05  # the sleep before the first call is not the call's time
    assert get.wire == 0.0  # a stubbed call never reaches the wire: all of it is the SDK's own work


def test_a_failed_invoke_is_profiled_too(code: Path, heard: list[Invocation], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROFILE_ENV, "1")
    pools = _pools(code)
    try:
        with pytest.raises(InvokeError):
            pools.invoke("fails", {})
    finally:
        pools.stop()
    (invocation,) = heard
    assert invocation.failed
    assert invocation.end - invocation.start >= 0.02


def test_without_the_switch_nothing_is_timed_imported_or_heard(
    code: Path, heard: list[Invocation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    pools = _pools(code)
    try:
        seen = pools.invoke("modules", {})
    finally:
        pools.stop()
    assert seen == {"botocore": False, "cProfile": False}
    assert heard == []
