"""The local AWS: moto in server mode on a thread of this process, and the template's resources in it.

Running moto in-process (instead of `moto_server` as a subprocess) lets the stack patch moto's Lambda,
EventBridge and SES backends so they reach the functions' workers and the outbox. The server is
threaded, because handlers call back into it while it serves the request that invoked them; DynamoDB
requests alone are serialised, because moto is not thread-safe and was seen to oversell under
concurrent transactions, whereas real DynamoDB serialises writes to an item. Every AWS request of every
function is served by this one process, so two of moto's costs that grow with use are cut here: whole
tables copied per transaction, and the state machine parsed per execution.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore.config import Config

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


def install_item_snapshots() -> Callable[[], None]:
    """Make moto's `TransactWriteItems` snapshot only the items it touches, not whole tables.

    To roll a failed transaction back, moto deep-copies every table the transaction names before it
    starts: 0.2 s at 5,000 items, all of it inside the DynamoDB lock, so on a stack that has taken a few
    hundred orders every checkout waited on copies of the orders table. DynamoDB's cost does not grow
    with the table. Here the touched items alone are copied, the table copy becomes a no-op, and on
    failure the items are put back as they were. Only sound because DynamoDB requests are serialised
    (`SerialiseDynamoDB`). Returns the undo."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "snapshots_items", False):
        return lambda: None

    class TablesAsThey:
        """`copy` as `models` sees it while a transaction runs: a table "copy" is the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def snapshot(backend: Any, operations: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
        saved = []
        for operation in operations:
            _, op = next(iter(operation.items()))
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item")
            if table is None or not isinstance(source, dict) or table.hash_key_attr not in source:
                continue  # moto refuses the transaction before writing anything
            hash_value = DynamoType(source[table.hash_key_attr])
            range_value = DynamoType(source[table.range_key_attr]) if table.range_key_attr in source else None
            if table.has_range_key and range_value is None:
                continue
            item = table.items.get(hash_value)
            if table.has_range_key:
                item = (item or {}).get(range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(item)))
        return saved

    def put_back(table: Table, hash_value: Any, range_value: Any, item: Any) -> None:
        if not table.has_range_key:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            return
        bucket = table.items.setdefault(hash_value, {})
        if item is None:
            bucket.pop(range_value, None)
        else:
            bucket[range_value] = item
        if not bucket:
            table.items.pop(hash_value, None)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = snapshot(self, transact_items)
        setattr(models, "copy", TablesAsThey)  # noqa: B010 - a module attribute moto does not export
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(saved):
                put_back(table, hash_value, range_value, item)
            raise
        finally:
            setattr(models, "copy", copy)  # noqa: B010

    transact_write_items.snapshots_items = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items

    def undo() -> None:
        models.DynamoDBBackend.transact_write_items = original

    return undo


def install_parse_cache() -> Callable[[], None]:
    """Parse a state machine's definition once, not once per execution.

    moto's Step Functions interpreter parses the ASL with a pure-Python ANTLR parser at every
    `StartExecution`: 0.35 s of CPU for the order workflow, holding the GIL of the process that also
    serves every AWS request, so a burst of checkouts queued behind parses. The parse tree is kept per
    definition; the evaluation components are still built fresh for each execution (cheap, and they hold
    an execution's state). Returns the undo."""
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    parser = asl_parser.AmazonStateLanguageParser
    original = parser.parse
    if getattr(original, "caches_trees", False):
        return lambda: None
    trees: dict[str, Any] = {}

    def parse(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, tree = original(definition)  # a definition with errors raises, and is not kept
            trees[definition] = tree
            return program, tree
        return Preprocessor().visit(tree), tree

    parse.caches_trees = True  # type: ignore[attr-defined]
    parser.parse = staticmethod(parse)

    def undo() -> None:
        parser.parse = staticmethod(original)

    return undo


class MotoServer:
    """moto's server app behind `SerialiseDynamoDB`, served by werkzeug on a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5050) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        install_item_snapshots()
        install_parse_cache()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            host, port, SerialiseDynamoDB(app), threaded=True, request_handler=MotoRequestHandler
        )
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
            kwargs: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PROVISIONED"),
            }
            if kwargs["BillingMode"] == "PROVISIONED":
                kwargs["ProvisionedThroughput"] = props.get(
                    "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
                )
            for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
                if key in props:
                    kwargs[key] = props[key]
            description = dynamodb.create_table(**kwargs)["TableDescription"]
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
        sqs = self._client("sqs")
        for logical_id, raw in self.template.of_type("AWS::SQS::Queue"):
            physical = self.resolver.physical(logical_id)
            name = physical.attrs["QueueName"]
            attributes = (
                {"FifoQueue": "true"} if str(self.resolver.resolve(raw.get("FifoQueue", ""))).lower() == "true" else {}
            )
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
