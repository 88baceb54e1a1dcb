"""The local AWS: moto in server mode on a thread of this process, and the template's resources in it.

Running moto in-process (instead of `moto_server` as a subprocess) lets the stack patch moto's Lambda,
EventBridge and SES backends so they reach the functions' workers and the outbox. The server is
threaded, because handlers call back into it while it serves the request that invoked them; DynamoDB
requests alone are serialised, because moto is not thread-safe and was seen to oversell under
concurrent transactions, whereas real DynamoDB serialises writes to an item. Every AWS request of every
function is served by this one process, so two of moto's costs that grow with use are cut before the
server starts (`local.moto_patches`): whole tables copied per transaction, and the state machine parsed
per execution.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore.config import Config

from local.dynamodb_model import COUNTERS_PATH, AwsDynamoDB, ItemLimits
from local.moto_patches import install_item_snapshots, install_parse_cache
from local.template import ACCOUNT_ID, REGION, FunctionEvent, Physical, Resolver, Template, TemplateError, load_yaml

if TYPE_CHECKING:
    from local.lambdas import FunctionSpec

log = logging.getLogger("local.aws")

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
LAMBDA_ROLE = "storekeeper-local-lambda"
LAMBDA_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{LAMBDA_ROLE}"
MOTO_CONFIG = {
    "batch": {"use_docker": False},
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# `AWS::SQS::Queue` properties that are queue attributes of the same name (SqsManagedSseEnabled has no
# local effect and is left out).
QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _queue_attribute(value: Any) -> str:
    """A queue attribute as SQS takes it: JSON for a policy, lower case for a boolean, text otherwise."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SerialiseDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, everything else concurrent.

    The whole response body is produced inside the lock: moto builds it lazily in some paths."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


DYNAMODB_MODELS = ("serial", "aws")


class MotoServer:
    """moto's server app behind a DynamoDB model, served by werkzeug on a daemon thread.

    `dynamodb_model="serial"` (`SerialiseDynamoDB`) applies every DynamoDB request, one at a time;
    `"aws"` (`local.dynamodb_model.AwsDynamoDB`) also throttles a hot item and cancels overlapping
    transactions as AWS does, with `limits` (None: from the environment)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5050,
        *,
        dynamodb_model: str = "serial",
        limits: ItemLimits | None = None,
    ) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        install_item_snapshots()
        install_parse_cache()
        if dynamodb_model not in DYNAMODB_MODELS:
            raise ValueError(f"dynamodb_model must be one of {DYNAMODB_MODELS}, not {dynamodb_model!r}")
        app = DomainDispatcherApplication(create_backend_app)
        served: WsgiApp = AwsDynamoDB(app, limits) if dynamodb_model == "aws" else SerialiseDynamoDB(app)
        self.dynamodb_model = dynamodb_model
        self._server = make_server(host, port, served, threaded=True, request_handler=MotoRequestHandler)
        self.port: int = self._server.server_port
        self.endpoint = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the logs
        # moto's Step Functions interpreter calls back to localhost:$MOTO_PORT (5000 otherwise).
        os.environ["MOTO_PORT"] = str(self.port)
        self._thread.start()
        response = requests.post(f"{self.endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=5)
        response.raise_for_status()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def dynamodb_counters(self, *, reset: bool = False) -> dict[str, Any] | None:
        """The AWS model's counters (`local.dynamodb_model`: requests, units, throttles, conflicts, items
        held); `reset` zeroes the counts first. None under the serial model, which counts nothing."""
        if self.dynamodb_model != "aws":
            return None
        url = f"{self.endpoint}{COUNTERS_PATH}"
        response = requests.post(url, timeout=10) if reset else requests.get(url, timeout=10)
        response.raise_for_status()
        return dict(response.json())


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for the local AWS (untyped on purpose: mypy_boto3 stubs are not a dependency here)."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        config=Config(retries={"mode": "standard", "max_attempts": 2}, read_timeout=60, max_pool_connections=64),
    )


def table_request(name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """The `CreateTable` request for a table of the template (its resolved `props`) named `name`: keys,
    attributes, indexes, billing and stream as declared. The local stack and the tests build with it."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            request[key] = props[key]
    return request


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    raise RuntimeError('dispatched in-process')\n")
    return buffer.getvalue()


@dataclass
class Created:
    """What the stack created, for the state file and the banner."""

    tables: list[str] = field(default_factory=list)
    buses: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    state_machines: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)


class Provisioner:
    """Creates the template's resources in moto, in dependency order, binding moto-chosen ids."""

    def __init__(self, template: Template, resolver: Resolver, endpoint: str, *, quick_retries: bool = False) -> None:
        self.template = template
        self.resolver = resolver
        self.endpoint = endpoint
        self.quick_retries = quick_retries
        self.created = Created()

    def _client(self, service: str) -> Any:
        return client(service, self.endpoint)

    # ------------------------------------------------------------------ storage and buses
    def tables(self) -> None:
        dynamodb = self._client("dynamodb")
        for logical_id, raw in self.template.of_type("AWS::DynamoDB::Table"):
            props = self.resolver.resolve(raw)
            name = str(self.resolver.ref(logical_id))
            description = dynamodb.create_table(**table_request(name, props))["TableDescription"]
            if description.get("LatestStreamArn"):
                physical = self.resolver.physical(logical_id)
                physical.attrs["StreamArn"] = description["LatestStreamArn"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
            self.created.tables.append(name)

    def buses(self) -> None:
        events = self._client("events")
        for logical_id, _ in self.template.of_type("AWS::Events::EventBus"):
            name = str(self.resolver.ref(logical_id))
            if name != "default":
                events.create_event_bus(Name=name)
            self.created.buses.append(name)

    def buckets(self) -> None:
        s3 = self._client("s3")
        for logical_id, _ in self.template.of_type("AWS::S3::Bucket"):
            s3.create_bucket(
                Bucket=str(self.resolver.ref(logical_id)),
                CreateBucketConfiguration={"LocationConstraint": REGION},
            )

    def queues(self) -> None:
        """Queues with the template's attributes (visibility timeout, redrive policy, ...); those without
        a redrive policy first, so the dead-letter queue a policy names exists when it is created."""
        sqs = self._client("sqs")
        queues = sorted(self.template.of_type("AWS::SQS::Queue"), key=lambda queue: "RedrivePolicy" in queue[1])
        for logical_id, raw in queues:
            physical = self.resolver.physical(logical_id)
            name = physical.attrs["QueueName"]
            props = self.resolver.resolve(raw)
            attributes = {key: _queue_attribute(props[key]) for key in QUEUE_ATTRIBUTES if key in props}
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self.resolver.bind(logical_id, Physical(url, physical.attrs))

    def parameters(self) -> None:
        ssm = self._client("ssm")
        for logical_id, raw in self.template.of_type("AWS::SSM::Parameter"):
            props = self.resolver.resolve(raw)
            ssm.put_parameter(
                Name=str(self.resolver.ref(logical_id)),
                Value=str(props["Value"]),
                Type=props.get("Type", "String"),
                Overwrite=True,
            )

    def email_identities(self, environment: dict[str, str], extra_domains: Iterable[str] = ()) -> list[str]:
        """Verify every domain of an email-like environment value (senders), plus `extra_domains`:
        SES refuses to send from an unverified identity, locally as in AWS's sandbox."""
        domains = set(extra_domains)
        for value in environment.values():
            if "@" in value and " " not in value and "/" not in value:
                domains.add(value.rsplit("@", 1)[1].strip(">"))
        ses = self._client("ses")
        for domain in sorted(domains):
            ses.verify_domain_identity(Domain=domain)
        return sorted(domains)

    # ------------------------------------------------------------------ compute
    def role(self) -> None:
        iam = self._client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": ["lambda.amazonaws.com", "states.amazonaws.com", "scheduler.amazonaws.com"]
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName=LAMBDA_ROLE, AssumeRolePolicyDocument=json.dumps(trust))

    def functions(self, specs: Iterable[FunctionSpec]) -> None:
        lambda_ = self._client("lambda")
        code = _dummy_zip()
        for spec in specs:
            lambda_.create_function(
                FunctionName=spec.name,
                Runtime="python3.13",
                Role=LAMBDA_ROLE_ARN,
                Handler=spec.handler,
                Code={"ZipFile": code},
                Timeout=spec.timeout,
                MemorySize=spec.memory,
                Environment={"Variables": spec.environment},
            )
            self.created.functions.append(spec.name)

    def state_machines(self) -> None:
        sfn = self._client("stepfunctions")
        types = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
        for logical_id, raw in self.template.of_type(*types):
            definition = self._definition(logical_id, raw)
            physical = self.resolver.physical(logical_id)
            sfn.create_state_machine(
                name=physical.attrs["Name"],
                definition=definition,
                roleArn=LAMBDA_ROLE_ARN,
                type=str(self.resolver.resolve(raw.get("Type", "STANDARD"))),
            )
            self.created.state_machines.append(physical.attrs["Name"])

    def _definition(self, logical_id: str, raw: dict[str, Any]) -> str:
        if "Definition" in raw:
            text = json.dumps(self.resolver.resolve(raw["Definition"]))
        elif "DefinitionUri" in raw and isinstance(raw["DefinitionUri"], str):
            path = self.template.root / raw["DefinitionUri"]
            text = json.dumps(load_yaml(path)) if path.suffix in (".yaml", ".yml") else path.read_text(encoding="utf-8")
        elif "DefinitionString" in raw:
            text = str(self.resolver.resolve(raw["DefinitionString"]))
        else:
            raise TemplateError(f"{logical_id}: a local state machine needs Definition or a local DefinitionUri")
        substitutions = self.resolver.resolve(raw.get("DefinitionSubstitutions") or {})
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", str(value))
        return quicken(text) if self.quick_retries else text

    # ------------------------------------------------------------------ rules and schedules
    def _target_arn(self, logical_id: str) -> str:
        return str(self.resolver.get_att(logical_id, "Arn"))

    def event_rules(self) -> None:
        """`AWS::Events::Rule` resources (pattern rules on a bus, e.g. into a queue), with their targets'
        `Input`, `InputPath` or `InputTransformer`. Retry and dead-letter settings have no local effect."""
        events = self._client("events")
        for logical_id, raw in self.template.of_type("AWS::Events::Rule"):
            props = self.resolver.resolve(raw)
            if "EventPattern" not in props:
                raise TemplateError(f"{logical_id}: the local stack runs only pattern rules as AWS::Events::Rule")
            name, bus = str(self.resolver.ref(logical_id)), str(props.get("EventBusName", "default"))
            events.put_rule(
                Name=name,
                EventBusName=bus,
                EventPattern=json.dumps(props["EventPattern"]),
                State=props.get("State", "ENABLED"),
            )
            keep = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "SqsParameters")
            targets = [{key: target[key] for key in keep if key in target} for target in props.get("Targets") or []]
            if targets:
                events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            self.created.rules.append(name)

    def rules_and_schedules(self, events: list[FunctionEvent]) -> None:
        client_events = self._client("events")
        scheduler = self._client("scheduler")
        for event in events:
            props = self.resolver.resolve(event.properties)
            target: dict[str, Any] = {
                "Id": (props.get("Target") or {}).get("Id", "target"),
                "Arn": self._target_arn(event.target),
            }
            for key in ("Input", "InputPath", "InputTransformer"):
                if key in props:
                    target[key] = props[key]
            if event.kind == "rule":
                bus = str(props.get("EventBusName", "default"))
                client_events.put_rule(
                    Name=event.name,
                    EventBusName=bus,
                    EventPattern=json.dumps(props["Pattern"]),
                    State=props.get("State", "ENABLED"),
                )
                client_events.put_targets(Rule=event.name, EventBusName=bus, Targets=[target])
                self.created.rules.append(event.name)
                continue
            expression = props.get("Schedule") or props.get("ScheduleExpression")
            if "ScheduleExpression" in props:
                scheduler.create_schedule(
                    Name=event.name,
                    ScheduleExpression=expression,
                    FlexibleTimeWindow={"Mode": "OFF"},
                    Target={
                        "Arn": target["Arn"],
                        "RoleArn": LAMBDA_ROLE_ARN,
                        **({"Input": props["Input"]} if "Input" in props else {}),
                    },
                )
            else:
                client_events.put_rule(Name=event.name, ScheduleExpression=expression, State="ENABLED")
                client_events.put_targets(Rule=event.name, Targets=[target])
            self.created.schedules[event.name] = {
                "target": event.target,
                "arn": target["Arn"],
                "input": props.get("Input"),
                "expression": expression,
            }


def quicken(definition: str) -> str:
    """The state machine with every `Retry` after 1 s, at most twice: the same error paths (retry, then
    the Catch) in seconds instead of the hours a compensation retries on AWS. For tests of what happens
    when retries run out (`python -m local run --quick-retries`)."""
    machine = json.loads(definition)

    def visit(states: dict[str, Any]) -> None:
        for state in states.values():
            for retrier in state.get("Retry", []):
                retrier.update(
                    IntervalSeconds=1, BackoffRate=1.0, MaxAttempts=min(int(retrier.get("MaxAttempts", 3)), 2)
                )
                retrier.pop("MaxDelaySeconds", None)
            for branch in state.get("Branches", []):
                visit(branch["States"])
            if "Iterator" in state:
                visit(state["Iterator"]["States"])

    visit(machine["States"])
    return json.dumps(machine)
