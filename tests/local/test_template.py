"""The local stack reads everything from template.yaml; these pin down how it reads it."""

from pathlib import Path
from typing import Any

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
    """Each function gets only its own variables (in AWS, and in the local stack's workers): a function
    whose environment lacks a variable its settings require fails its cold start."""
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


def test_every_function_that_calls_stripe_declares_where_stripe_is(template: Template) -> None:
    """`STRIPE_API_BASE` (empty in AWS: Stripe itself) must be declared by every function that reads a
    Stripe key: the local stack gives the local Stripe's address only to functions that declare it."""
    for logical_id, props in template.functions():
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if "STRIPE_SECRET_KEY_PARAMETER" in variables:
            assert variables.get("STRIPE_API_BASE") == "", logical_id


# ---------------------------------------------------------------- operability and resilience


def _async_functions(template: Template) -> set[str]:
    """Functions that EventBridge rules or Scheduler invoke (asynchronously)."""
    return {
        logical_id
        for logical_id, props in template.functions()
        for event in (props.get("Events") or {}).values()
        if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2")
    }


def test_api_functions_answer_before_api_gateway_gives_up(template: Template) -> None:
    """API Gateway stops waiting after 29 s; a function allowed to run longer would keep working (and
    holding locks, calling Stripe) for a client that already got a 504."""
    for logical_id, props in template.functions():
        if any(e.get("Type") == "Api" for e in (props.get("Events") or {}).values()):
            assert int(props["Timeout"]) <= 28, logical_id


def test_every_async_function_keeps_what_it_failed_on(template: Template) -> None:
    standalone = {
        props["FunctionName"]["Ref"]
        for _, props in template.of_type("AWS::Lambda::EventInvokeConfig")
        if (props.get("DestinationConfig") or {}).get("OnFailure")
    }
    for logical_id in _async_functions(template):
        props = dict(template.functions())[logical_id]
        inline = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        assert inline or logical_id in standalone, f"{logical_id} has no on-failure destination"


def test_every_rule_target_and_schedule_has_a_dead_letter_queue(template: Template) -> None:
    for event in template.events(lambda value: value):
        assert (event.properties.get("DeadLetterConfig") or {}).get("Arn"), f"{event.target} {event.name}"


def test_every_rule_resource_target_retries_into_a_dead_letter_queue(template: Template) -> None:
    """Rules written as `AWS::Events::Rule` (a queue as target) keep what they could not deliver too."""
    rules = list(template.of_type("AWS::Events::Rule"))
    assert rules, "no AWS::Events::Rule in template.yaml"
    for logical_id, props in rules:
        for target in props["Targets"]:
            assert (target.get("DeadLetterConfig") or {}).get("Arn"), f"{logical_id} {target['Id']}"
            assert target.get("RetryPolicy"), f"{logical_id} {target['Id']}"


def _polled_queues(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    """Queue logical id → (the function that polls it, the `Type: SQS` event's properties)."""
    return {
        event["Properties"]["Queue"]["Fn::GetAtt"][0]: (logical_id, event["Properties"])
        for logical_id, props in template.functions()
        for event in (props.get("Events") or {}).values()
        if event.get("Type") == "SQS"
    }


def test_hot_aggregates_are_fed_in_batches_through_a_queue(template: Template) -> None:
    """docs/decisions.md (batched aggregates): the report aggregates and the customers' counters take their
    events from a queue in batches, so a burst of orders becomes one write per item per batch."""
    polled = {function: queue for queue, (function, _) in _polled_queues(template).items()}
    assert polled.get("ReportsEventsFunction") == "ReportsEventsQueue"
    assert polled.get("CustomerCountersFunction") == "CustomerCountersQueue"
    for logical_id in ("ReportsEventsFunction", "CustomerCountersFunction"):
        events = dict(template.functions())[logical_id]["Events"]
        assert [e["Type"] for e in events.values()] == ["SQS"], f"{logical_id} is fed by a rule too"


def test_every_polled_queue_is_fed_by_a_rule_and_redrives_to_a_watched_dead_letter_queue(
    template: Template,
) -> None:
    """A queue a function polls: batches as the design says, failures reported per message, a visibility
    timeout of at least 6 x the function's timeout plus the batching window (AWS's advice: a batch still
    being retried is not handed out again), encrypted, a dead-letter queue after 5 receives (a watched
    one), a rule on the store's bus as its only sender, and a policy that lets exactly that rule send."""
    queues = dict(template.of_type("AWS::SQS::Queue"))
    functions = dict(template.functions())
    rules = list(template.of_type("AWS::Events::Rule"))
    polled = _polled_queues(template)
    assert polled, "no function polls a queue"
    for queue, (function, event) in polled.items():
        props = queues[queue]
        assert event["BatchSize"] == 100, queue
        assert event["MaximumBatchingWindowInSeconds"] == 1, queue
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"], queue
        assert event["ScalingConfig"]["MaximumConcurrency"] == 2, queue
        timeout = int(functions[function]["Timeout"])
        assert int(props["VisibilityTimeout"]) >= 6 * timeout + event["MaximumBatchingWindowInSeconds"], queue
        assert props["SqsManagedSseEnabled"] is True, queue
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5, queue
        dead_letter = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dead_letter in queues and "RedrivePolicy" not in queues[dead_letter], queue
        senders = [
            rule_id
            for rule_id, rule in rules
            for target in rule["Targets"]
            if target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
        ]
        assert len(senders) == 1, f"{queue}: fed by {senders}"
        assert dict(rules)[senders[0]]["EventBusName"] == {"Ref": "StoreEventBus"}
        [policy] = [p for _, p in template.of_type("AWS::SQS::QueuePolicy") if {"Ref": queue} in p["Queues"]]
        [statement] = policy["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [senders[0], "Arn"]}}}


def test_every_dead_letter_queue_admits_eventbridge_and_is_watched(template: Template) -> None:
    queues = {logical_id for logical_id, _ in template.of_type("AWS::SQS::Queue")}
    with_policy = {q["Ref"] for _, props in template.of_type("AWS::SQS::QueuePolicy") for q in props["Queues"]}
    watched = {
        d["Value"]["Fn::GetAtt"][0]
        for _, props in template.of_type("AWS::CloudWatch::Alarm")
        for d in props.get("Dimensions") or []
        if d["Name"] == "QueueName"
    }
    assert queues <= with_policy
    assert queues <= watched


def test_every_alarm_notifies_the_alarm_topic(template: Template) -> None:
    alarms = list(template.of_type("AWS::CloudWatch::Alarm"))
    assert len(alarms) >= 8
    for logical_id, props in alarms:
        assert {"Ref": "AlarmTopic"} in props["AlarmActions"], logical_id


def test_every_function_has_a_log_group_with_retention(template: Template) -> None:
    groups = {
        props["LogGroupName"]["Fn::Sub"]: props
        for _, props in template.of_type("AWS::Logs::LogGroup")
        if isinstance(props.get("LogGroupName"), dict)
    }
    for logical_id, _ in template.functions():
        group = groups.get(f"/aws/lambda/${{{logical_id}}}")
        assert group is not None, f"{logical_id} has no log group"
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_table_has_point_in_time_recovery(template: Template) -> None:
    for logical_id, props in template.of_type("AWS::DynamoDB::Table"):
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id


def test_every_path_has_a_preflight_for_every_allowed_origin(template: Template) -> None:
    """SAM's `Cors` answers one fixed origin: the template leaves it out, and `PreflightFunction` answers
    `OPTIONS` on every path (without a token), with the origins of `AllowedOrigins`. A new route's path
    fails here until its preflight event is added."""
    from local.gateway import CorsPreflight

    resolver = Resolver(template, template.parameter_defaults({"AllowedOrigins": "https://a.test,https://b.test"}))
    assert CorsPreflight.of(resolver.resolve(template.cors())) is None
    routes = template.routes()
    paths = {r.path for r in routes if r.method != "OPTIONS"}
    preflights = {r.path: r for r in routes if r.method == "OPTIONS"}
    assert set(preflights) == paths
    assert {(r.function, r.authorizer) for r in preflights.values()} == {("PreflightFunction", None)}
    variables = dict(template.functions())["PreflightFunction"]["Environment"]["Variables"]
    assert resolver.resolve(variables["ALLOWED_ORIGINS"]) == "https://a.test,https://b.test"
    answers = resolver.resolve(template.gateway_responses())
    for kind, answer in answers.items():
        assert answer["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == "'https://a.test'", kind
    api = dict(template.of_type("AWS::Serverless::Api"))["StoreApi"]
    assert api["Auth"]["AddDefaultAuthorizerToCorsPreflight"] is False
