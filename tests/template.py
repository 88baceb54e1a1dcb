"""`template.yaml` as the tests read it: the resolved template, and a function's environment as Lambda
would hand it over. Every suite builds its world from here, so tests and template cannot drift."""

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest

from local.template import Resolver, Template, TemplateError

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
REGION = "eu-west-1"
OFFLINE = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}
"""What boto3 needs to sign a request moto answers (nothing a real account accepts), and Powertools
without X-Ray or pretty logs."""


@cache
def _parsed() -> Template:
    return Template(TEMPLATE)


def load(stage: str | None = None) -> tuple[Template, Resolver]:
    """The template (Globals applied) and a fresh resolver over its parameter defaults, `Stage` overridden
    when given (physical names follow it: `storekeeper-<stage>-...`). The template is parsed once per
    session (it takes a good part of a second) and shared: read it, never change it; a test binds what
    it created (a user pool) on its own resolver."""
    template = _parsed()
    return template, Resolver(template, template.parameter_defaults({"Stage": stage} if stage else None))


def function_environment(resolver: Resolver, *logical_ids: str) -> dict[str, str]:
    """The variables (Globals included) of these functions as the template resolves them, merged in the
    order given: what the handlers of one domain read when a test calls them in one process."""
    template = resolver.template
    merged: dict[str, str] = {}
    for logical_id in logical_ids:
        if logical_id not in template.resources:
            raise TemplateError(f"the template has no function {logical_id}")
        props = template.resources[logical_id].get("Properties") or {}
        variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        merged |= {name: str(value) for name, value in variables.items()}
    return merged


def set_environment(monkeypatch: pytest.MonkeyPatch, variables: Mapping[str, str] | None = None) -> None:
    """Set `variables` for this test over offline credentials and Powertools' quiet flags (no X-Ray, no
    pretty logs), and drop what would reach a real account (a profile, an endpoint override): a handler
    called in-process can only talk to moto."""
    for name, value in (OFFLINE | dict(variables or {})).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
