"""The local stack reads everything from template.yaml; these pin down how it reads it."""

from pathlib import Path

import pytest

from local.template import Resolver, Template, TemplateError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(ROOT / "template.yaml")


def test_every_function_gets_the_globals(template: Template) -> None:
    for logical_id, props in template.functions():
        assert props["Runtime"] == "python3.13", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Storekeeper"


def test_public_routes_have_no_authorizer_and_the_rest_have_cognito(template: Template) -> None:
    routes = {(r.method, r.path): r.authorizer for r in template.routes()}
    assert routes[("GET", "/products")] is None
    assert routes[("GET", "/products/{productId}")] is None
    assert routes[("POST", "/products")] == "CognitoAuthorizer"
    assert routes[("DELETE", "/products/{productId}")] == "CognitoAuthorizer"


def test_intrinsics_resolve_against_local_names(template: Template) -> None:
    resolver = Resolver(template, template.parameter_defaults({"Stage": "test"}))
    assert resolver.resolve({"Fn::Sub": "storekeeper-${Stage}"}) == "storekeeper-test"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-test"
    bus = resolver.resolve({"Ref": "StoreEventBus"})
    assert bus == "store-events-test"
    assert resolver.resolve({"Fn::GetAtt": ["StoreEventBus", "Arn"]}).endswith(f":event-bus/{bus}")
    assert resolver.resolve({"Fn::Sub": ["${X}-y", {"X": {"Ref": "Stage"}}]}) == "test-y"


def test_cognito_ids_are_refused_until_the_stack_created_them(template: Template) -> None:
    resolver = Resolver(template, template.parameter_defaults())
    with pytest.raises(TemplateError, match="only after the local stack created it"):
        resolver.resolve({"Ref": "UserPool"})


def test_gateway_responses_are_read_from_the_template(template: Template) -> None:
    responses = template.gateway_responses()
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


def test_every_placeholder_of_a_state_machine_is_substituted(template: Template) -> None:
    import json
    import re

    for _, props in template.of_type("AWS::Serverless::StateMachine"):
        text = (ROOT / props["DefinitionUri"]).read_text()
        json.loads(text)  # the file itself is plain JSON
        placeholders = set(re.findall(r"\$\{(\w+)\}", text))
        assert placeholders == set(props.get("DefinitionSubstitutions") or {})


def test_every_function_can_read_its_settings_from_its_own_environment(template: Template) -> None:
    """The local stack runs all functions in one process with the union of their variables, which
    would hide a function whose own environment lacks a variable its settings require."""
    import importlib
    import inspect

    from local.lambdas import function_specs
    from local.template import Physical

    class Placeholders(Resolver):
        def physical(self, logical_id: str) -> Physical:
            try:
                return super().physical(logical_id)
            except TemplateError:
                return Physical(logical_id, {"Arn": logical_id})

    from common.config import Settings

    resolver = Placeholders(template, template.parameter_defaults())
    for spec in function_specs(template, resolver).values():
        package = spec.handler.split(".", 1)[0]
        module = importlib.import_module(f"{package}.settings")
        classes = [
            c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, Settings) and c is not Settings
        ]
        for settings_class in classes:
            settings_class.model_validate(spec.environment)  # raises if a required variable is missing
