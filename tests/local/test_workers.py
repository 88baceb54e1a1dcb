"""Functions run in worker processes of their own, as in Lambda: one invoke at a time per worker, several
workers per function, only the function's own environment, killed past the timeout."""

import json
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local.lambdas import Dispatcher, FunctionSpec, lambda_environment
from local.workers import Environment, InvokeError, Pools

HANDLERS = '''
import os, sys, time

BUSY = 0


class OutOfStock(Exception):
    pass


def echo(event, context):
    """What the function sees of its world."""
    return {
        "pid": os.getpid(),
        "environ": dict(os.environ),
        "path": sys.path,
        "remaining": context.get_remaining_time_in_millis(),
        "requestId": context.aws_request_id,
        "event": event,
    }


def slow(event, context):
    global BUSY
    BUSY += 1
    try:
        time.sleep(event.get("seconds", 0.5))
        return {"pid": os.getpid(), "busy": BUSY}
    finally:
        BUSY -= 1


def fails(event, context):
    raise OutOfStock("SKU-1 is short")


def talks(event, context):
    print("a line from the handler")
    return None


def exits(event, context):
    os._exit(3)
'''


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("function")
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (root / "shop" / "broken.py").write_text("raise KeyError('SETTING')\n")
    return root


def _environment(
    code: Path, handler: str, *, timeout: float = 5, variables: dict[str, str] | None = None
) -> Environment:
    return Environment(
        name=handler.replace(".", "-"),
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{handler}",
        handler=f"shop.handlers.{handler}" if "." not in handler else handler,
        paths=(str(code),),
        variables={"PATH": os.environ["PATH"], **(variables or {})},
        timeout=timeout,
        memory=128,
    )


@pytest.fixture
def pools(code: Path) -> Iterator[Pools]:
    running = Pools(
        [
            _environment(code, "echo", variables={"TABLE": "orders"}),
            _environment(code, "slow"),
            _environment(code, "fails"),
            _environment(code, "talks"),
            _environment(code, "exits"),
            _environment(code, "shop.broken.handler"),
        ],
        size=4,
    )
    yield running
    running.stop()


def test_a_function_sees_only_its_own_environment_and_code(pools: Pools, code: Path) -> None:
    seen = pools.invoke("echo", {"hello": "world"})
    assert seen["event"] == {"hello": "world"}
    assert seen["environ"]["TABLE"] == "orders"
    assert set(seen["environ"]) <= {"PATH", "TABLE", "LC_CTYPE"}  # nothing of the stack's own environment
    assert seen["path"][0] == str(code)
    assert not any(Path(p) == Path(__file__).resolve().parents[2] for p in seen["path"]), "the repository leaked in"
    assert 4000 < seen["remaining"] <= 5000
    assert seen["pid"] != os.getpid()


def test_the_runtime_environment_holds_the_function_its_switches_and_only_declared_overrides() -> None:
    def spec(name: str, variables: dict[str, str]) -> FunctionSpec:
        return FunctionSpec(name, name, "x.handler", Path("/code"), 10, 512, variables)

    payments = spec("CreatePaymentIntentFunction", {"STRIPE_API_BASE": "", "POWERTOOLS_LOG_LEVEL": "INFO"})
    catalog = spec("CatalogApiFunction", {"CATALOG_TABLE": "catalog"})
    local = {"STRIPE_API_BASE": "http://127.0.0.1:8420"}
    switches = {"POWERTOOLS_LOG_LEVEL": "WARNING"}
    paying = lambda_environment(payments, endpoint="http://aws", overrides=local, switches=switches)
    browsing = lambda_environment(catalog, endpoint="http://aws", overrides=local, switches=switches)
    assert paying["STRIPE_API_BASE"] == "http://127.0.0.1:8420"
    assert "STRIPE_API_BASE" not in browsing
    assert "CATALOG_TABLE" not in paying and browsing["CATALOG_TABLE"] == "catalog"
    assert paying["POWERTOOLS_LOG_LEVEL"] == "WARNING"
    assert (browsing["AWS_LAMBDA_FUNCTION_NAME"], browsing["AWS_ENDPOINT_URL"]) == ("CatalogApiFunction", "http://aws")
    assert browsing["AWS_REGION"] == browsing["AWS_DEFAULT_REGION"]


def test_invokes_run_in_parallel_workers_one_at_a_time_each(pools: Pools) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as threads:
        answers = list(threads.map(lambda _: pools.invoke("slow", {"seconds": 0.5}), range(8)))
    elapsed = time.monotonic() - started
    assert {a["busy"] for a in answers} == {1}, "two invokes shared a worker"
    assert len({a["pid"] for a in answers}) == 4  # the pool's size: the other four waited for a free worker
    assert elapsed < 8 * 0.5
    # And warm workers are reused: no new cold start
    again = pools.invoke("slow", {"seconds": 0})
    assert again["pid"] in {a["pid"] for a in answers}
    assert pools.pools["slow"].cold_starts == 4


def test_a_handler_error_is_lambdas_error_payload(pools: Pools) -> None:
    with pytest.raises(InvokeError) as raised:
        pools.invoke("fails", {})
    assert raised.value.error_type == "OutOfStock"
    assert raised.value.payload["errorMessage"] == "SKU-1 is short"
    assert any("OutOfStock" in line for line in raised.value.payload["stackTrace"])


def test_a_handler_past_its_timeout_is_killed_and_replaced(code: Path) -> None:
    pools = Pools([_environment(code, "slow", timeout=1)], size=1)
    try:
        first = pools.invoke("slow", {"seconds": 0})["pid"]
        with pytest.raises(InvokeError) as raised:
            pools.invoke("slow", {"seconds": 30})
        assert raised.value.error_type == "Sandbox.Timedout"
        assert "Task timed out after 1.00 seconds" in raised.value.payload["errorMessage"]
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)
        assert pools.invoke("slow", {"seconds": 0})["pid"] != first
    finally:
        pools.stop()


def test_a_worker_that_dies_is_an_exit_error_and_is_replaced(pools: Pools) -> None:
    with pytest.raises(InvokeError) as raised:
        pools.invoke("exits", {})
    assert raised.value.error_type == "Runtime.ExitError"
    assert "exit status 3" in raised.value.payload["errorMessage"]
    with pytest.raises(InvokeError):
        pools.invoke("exits", {})  # a new worker, which dies the same way


def test_an_init_failure_fails_the_invoke_and_is_retried_on_the_next(pools: Pools) -> None:
    for _ in range(2):
        with pytest.raises(InvokeError) as raised:
            pools.invoke("shop-broken-handler", {})
        assert raised.value.error_type == "KeyError"
    assert pools.pools["shop-broken-handler"].cold_starts == 2


def test_what_a_handler_prints_reaches_the_stacks_output(pools: Pools, capfd: pytest.CaptureFixture[str]) -> None:
    pools.invoke("talks", {})
    deadline = time.monotonic() + 5
    seen = ""
    while "a line from the handler" not in seen and time.monotonic() < deadline:
        seen += capfd.readouterr().out
        time.sleep(0.05)
    assert "a line from the handler\n" in seen


def test_stopping_kills_every_worker(code: Path) -> None:
    pools = Pools([_environment(code, "slow")], size=3)
    with ThreadPoolExecutor(max_workers=3) as threads:
        pids = {a["pid"] for a in threads.map(lambda _: pools.invoke("slow", {"seconds": 0.3}), range(3))}
    pools.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(InvokeError):
        pools.invoke("slow", {})


def test_the_dispatcher_answers_as_lambda_does(code: Path, tmp_path: Path) -> None:
    specs = {name: FunctionSpec(name, name, f"shop.handlers.{name}", code, 5, 128, {}) for name in ("echo", "fails")}
    environments = [_environment(code, name) for name in specs]
    pools = Pools(environments, size=2)
    dispatcher = Dispatcher(specs, tmp_path / "failed", pools)
    try:
        payload, failed = dispatcher.invoke_sync("arn:aws:lambda:eu-west-1:123456789012:function:echo", b'{"a": 1}')
        assert not failed and json.loads(payload)["event"] == {"a": 1}
        payload, failed = dispatcher.invoke_sync("fails", b"{}")
        assert failed and json.loads(payload)["errorType"] == "OutOfStock"
        assert set(json.loads(payload)) == {"errorMessage", "errorType", "stackTrace"}
        # An async invoke's failure is written down, never lost
        dispatcher.invoke_async("fails", {"orderId": "o_1"}, source="rule test")
        deadline = time.monotonic() + 10
        while not list((tmp_path / "failed").glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (record,) = [json.loads(p.read_text()) for p in (tmp_path / "failed").glob("*.json")]
        assert (record["errorType"], record["source"]) == ("OutOfStock", "rule test")
        assert record["event"] == {"orderId": "o_1"}
    finally:
        pools.stop()


def test_the_worker_runs_without_the_repository_on_its_path() -> None:
    """`local/worker.py` imports only the standard library, so it can run with `-P` and a bare path."""
    source = (Path(__file__).resolve().parents[2] / "local" / "worker.py").read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", *sys.stdlib_module_names}, imports
