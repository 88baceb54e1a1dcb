"""Schemathesis against the running local stack, from `docs/openapi.json`: every operation, as an admin
and as a customer, with valid and invalid inputs. No answer may be a 5xx, answer a status the document
does not list, or carry a body its schema rejects.

`FUZZ_EXAMPLES` bounds the examples per operation, role and mode (5 in CI; `make fuzz` runs 15,
about 3,000 requests)."""

import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.localstack import LocalStack

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
ROLES = {"admin": "admin", "customer": None}
"""Role → Cognito group. Each is a user of its own (`fuzz-<role>@`): the fuzzer calls `DELETE /me`, which
must not erase the demo users other tests rely on."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_operation_answers_5xx_or_off_the_document(stack: LocalStack) -> None:
    # Given the document, pointed at the local stack, and a signed-in user per role
    tokens = {role: stack.token(f"fuzz-{role}@example.com", group) for role, group in ROLES.items()}
    schema = schemathesis.openapi.from_path(SPEC)
    schema.config.update(base_url=stack.api)
    session = requests.Session()
    failures: list[str] = []
    calls = 0
    started = time.monotonic()

    # When every operation is called with generated inputs, as each role and in each mode
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: nothing to fuzz
        operation = result.ok()
        for role in ROLES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    calls += _exercise(operation, mode, session, {"Authorization": f"Bearer {tokens[role]}"})
                except Unsatisfiable:
                    continue  # nothing to make invalid (no parameters, no body)
                except (FailureGroup, AssertionError, requests.RequestException) as failure:
                    failures.append(f"{operation.label} as {role} ({mode.value}):\n{failure}")

    # Then nothing failed
    elapsed = time.monotonic() - started
    print(f"fuzz: {calls} requests in {elapsed:.0f} s, {EXAMPLES} examples per operation/role/mode")
    if failures:
        pytest.fail(f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures), pytrace=False)


def _exercise(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    session: requests.Session,
    headers: dict[str, str],
) -> int:
    """Run one operation's examples; raise the first failing check. Returns how many requests it sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize="FUZZ_RANDOM" not in os.environ,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case[Any]) -> None:
        nonlocal sent
        sent += 1
        response = case.call(session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    exercise()
    return sent
