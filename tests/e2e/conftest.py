"""The whole local stack, started once per session as `python -m local run` in a subprocess."""

from collections.abc import Callable, Iterator

import pytest
import requests

from tests.e2e.localstack import LocalStack, start, stop, wait_ready


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir = tmp_path_factory.mktemp("local-stack")
    process, log = start(state_dir)
    try:
        api = wait_ready(process, log)
        yield LocalStack(api, state_dir, process, log)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def tokens(stack: LocalStack) -> dict[str, str]:
    return {
        "admin": stack.token("admin@example.com", "admin"),
        "support": stack.token("support@example.com", "support"),
        "alice": stack.token("alice@example.com"),
        "bob": stack.token("bob@example.com"),
        "affiliate": stack.token("affiliate@example.com", "affiliate"),
    }


@pytest.fixture
def http(stack: LocalStack) -> Callable[..., requests.Response]:
    """`http("GET", "/products", token=..., **requests_kwargs)` against the local API."""
    session = requests.Session()

    def call(method: str, path: str, *, token: str | None = None, **kwargs: object) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return session.request(method, stack.api + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    return call
