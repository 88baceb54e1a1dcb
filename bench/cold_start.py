"""Cold-start benchmark: how long each API function takes, in a fresh interpreter, to import its handler
module and answer its first request, next to a baseline that imports boto3, creates a DynamoDB client
and makes one `GetItem`, measured side by side in one run.

The first request counts because a cold start ends with the first answer, not the last import: work
moved from import to the first request (lazy imports, validation built per route) is no gain here, work
that no request needs is. Both sides call the same local AWS (moto in server mode in this process, the
template's tables, one product seeded through the API), so an AWS call costs the same on either side.
Two reference rows: pydantic alone (the baseline's read answered through one model), and the framework
alone (pydantic and Powertools' event handler, logger and metrics with one route): the floor any function
of this stack starts from, since every model here is pydantic and every route Powertools'. Beside wall
time, the interpreter's CPU time, which leaves out waiting and so holds steadier when other processes
share the machine.

It reads the built template (`make build` first: the build output carries the bytecode we ship) and
runs each function from its build folder with the common layer's own code and the environment the local
stack would give it. Third-party packages come from the venv, because the layer's wheels are built for
arm64 and this machine may not be. The other functions (workflow tasks, consumers) are listed with
`--all`, by import alone, next to the baseline without its request.

    python bench/cold_start.py [--rounds N] [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import cognito  # noqa: E402
from local.aws import FAKE_CREDENTIALS, MotoServer, Provisioner, client  # noqa: E402
from local.lambdas import function_specs, lambda_environment  # noqa: E402
from local.stripe import sign  # noqa: E402
from local.template import Resolver, Template  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
BASELINE = "baseline: boto3 + DynamoDB client + one GetItem"
IMPORT_BASELINE = "baseline: boto3 + DynamoDB client"
WEBHOOK_SECRET = "whsec_cold_start_bench"  # noqa: S105 - a local bench's own signing secret
ADMIN = {"sub": "e50c396a-66e1-4200-883c-213e0b24a96c", "email": "admin@example.com", "cognito:groups": "admin"}
CUSTOMER = {"sub": "7a098686-73ff-4027-be5b-25ffb2b19a35", "email": "alice@example.com"}
AFFILIATE = {"sub": "7d2f4c1e-3a5b-4c6d-8e9f-0a1b2c3d4e5f", "email": "bob@example.com", "cognito:groups": "affiliate"}
ORIGIN = "http://127.0.0.1:8080"

# The child: everything before `t` is what Lambda's runtime has done before it imports the handler.
CHILD = """
import json, sys, time, types
event = json.loads(sys.argv[1])
context = types.SimpleNamespace(function_name="bench", function_version="$LATEST", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:bench", aws_request_id="bench-request",
    get_remaining_time_in_millis=lambda: 10_000)
t, cpu = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
sys.stdout.write("\\n" + json.dumps({{"seconds": elapsed, "cpu": cpu, "status": status}}))
"""
FIRST_REQUEST = "import {module}\nstatus = {module}.{function}(event, context).get('statusCode')"
IMPORT_ONLY = "import {module}\nstatus = None"
BASELINE_REQUEST = (
    "import boto3\ndynamodb = boto3.client('dynamodb')\n"
    "dynamodb.get_item(TableName=event['table'], Key=event['key'])\nstatus = 200"
)
BASELINE_IMPORT = "import boto3\nboto3.client('dynamodb')\nstatus = None"
PYDANTIC = "for reference: baseline + pydantic (one model)"
PYDANTIC_REQUEST = (
    "from pydantic import BaseModel\n"
    "class Item(BaseModel):\n    sku: str\n"
    "import boto3\ndynamodb = boto3.client('dynamodb')\n"
    "found = dynamodb.get_item(TableName=event['table'], Key=event['key'])\n"
    "status = 200 if Item(sku=found['Item']['PK']['S']).model_dump_json() else None"
)
FRAMEWORK = "for reference: baseline + pydantic + Powertools' event handler, logger and metrics"
FRAMEWORK_REQUEST = (
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from pydantic import BaseModel\n"
    "class Item(BaseModel):\n    sku: str\n"
    "app = APIGatewayRestResolver(enable_validation=True)\n"
    "@app.get('/items/<sku>')\ndef get_item(sku: str) -> Item:\n"
    "    found = dynamodb.get_item(TableName=event['table'], Key=event['key'])\n"
    "    return Item(sku=found['Item']['PK']['S'])\n"
    "logger, metrics = Logger(service='bench'), Metrics(service='bench')\n"
    "import boto3\ndynamodb = boto3.client('dynamodb')\n"
    "status = logger.inject_lambda_context(metrics.log_metrics(app.resolve))(event['request'], context)['statusCode']"
)


Event = dict[str, Any] | Callable[[], dict[str, Any]]
"""An event, or what makes it at each run (a Stripe signature is valid for minutes only)."""


@dataclass
class Target:
    statement: str
    event: Event = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    path: list[Path] = field(default_factory=list)


def api_event(
    method: str,
    resource: str,
    *,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway builds it (the shape of `events/api/`)."""
    concrete = resource
    for name, value in (path or {}).items():
        concrete = concrete.replace("{" + name + "}", value)
    all_headers = {"Accept": "application/json", "Origin": ORIGIN, **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "httpMethod": method,
        "path": concrete,
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "resourcePath": resource,
        "stage": "local",
        "identity": {"sourceIp": "203.0.113.7"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": {**claims, "token_use": "id", "email_verified": "true"}}
    return {
        "resource": resource,
        "path": concrete,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path,
        "stageVariables": None,
        "requestContext": context,
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def first_requests(product_id: str, sku: str) -> dict[str, Event]:
    """One realistic first request per API function (logical id → event): the route a cold start most
    often meets, a read where the function has one."""
    visit = {"sessionId": "bench-session-1", "path": f"/products/{product_id}", "productId": product_id}
    webhook = json.dumps(json.loads((ROOT / "events/stripe/payment_intent.succeeded.json").read_text()))

    def signed_webhook() -> dict[str, Any]:
        signature = sign(webhook, WEBHOOK_SECRET)
        return api_event("POST", "/payments/webhook", body=webhook, headers={"Stripe-Signature": signature})

    return {
        "PreflightFunction": api_event("OPTIONS", "/orders", headers={"Access-Control-Request-Method": "POST"}),
        "CatalogPublicFunction": api_event("GET", "/products/{productId}", path={"productId": product_id}),
        "CatalogAdminFunction": api_event(
            "PUT", "/products/{productId}", path={"productId": product_id}, body=_product(sku), claims=ADMIN
        ),
        "InventoryAdminFunction": api_event("GET", "/inventory/{sku}", path={"sku": sku}, claims=ADMIN),
        "PaymentsWebhookFunction": signed_webhook,
        "PaymentsAdminFunction": api_event("GET", "/admin/reconciliation", claims=ADMIN),
        "OrdersApiFunction": api_event("GET", "/me/orders", query={"limit": "10"}, claims=CUSTOMER),
        "OrdersAdminFunction": api_event("GET", "/admin/orders", claims=ADMIN),
        "QuotesFunction": api_event("GET", "/shipping-methods", query={"country": "DE"}),
        "CustomersPublicFunction": api_event(
            "GET", "/products/{productId}/recommendations", path={"productId": product_id}
        ),
        "CustomersApiFunction": api_event("GET", "/me", claims=CUSTOMER),
        "CustomersAdminFunction": api_event("GET", "/admin/customers", query={"q": "alice"}, claims=ADMIN),
        "ReportsApiFunction": api_event("GET", "/reports/sales", claims=ADMIN),
        "VisitsFunction": api_event("POST", "/analytics/visits", body=visit),
        "AffiliatesApiFunction": api_event("GET", "/affiliates/me", claims=AFFILIATE),
    }


def _product(sku: str) -> dict[str, Any]:
    return {
        "name": "Harbour Rain Jacket",
        "description": "A packable rain jacket in recycled nylon with taped seams.",
        "category": "apparel",
        "tags": ["rain", "jacket"],
        "price": {"amount": 11900, "currency": "EUR"},
        "variants": [{"sku": sku, "attributes": {"colour": "navy", "size": "M"}}],
    }


def functions_in_build() -> dict[str, tuple[Path, str, str]]:
    """Logical id → (build folder, handler module, handler function) for every function built."""
    template = yaml.safe_load((BUILD / "template.yaml").read_text())
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            module, function = props["Handler"].rsplit(".", 1)
            found[name] = (BUILD / props["CodeUri"], module, function)
    return dict(sorted(found.items()))


def run(target: Target) -> tuple[float, float, Any]:
    env = {**target.environment, "PYTHONPATH": os.pathsep.join(str(p) for p in target.path)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    event = target.event() if callable(target.event) else target.event
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(statement=target.statement), json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{target.statement!r} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.rsplit("\n", 1)[-1])
    return float(result["seconds"]), float(result["cpu"]), result["status"]


class LocalAws:
    """moto with the template's tables, buses, queues and parameters, the functions' environments, and
    one product (with a stock level) created through the catalog's and inventory's own handlers."""

    def __init__(self, layer_code: Path) -> None:
        self.server = MotoServer(port=0)
        self.layer_code = layer_code

    def start(self) -> None:
        os.environ.update({**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": "eu-west-1"})
        self.server.start()
        template = Template(ROOT / "template.yaml")
        self.resolver = Resolver(template, template.parameter_defaults())
        provisioner = Provisioner(template, self.resolver, self.server.endpoint)
        provisioner.tables()
        provisioner.buses()
        provisioner.buckets()
        provisioner.queues()
        provisioner.parameters()
        cognito.create_pools(template, self.resolver, self.server.endpoint)
        self.specs = {spec.logical_id: spec for spec in function_specs(template, self.resolver).values()}
        self.built = functions_in_build()
        secret = self.specs["PaymentsWebhookFunction"].environment["STRIPE_WEBHOOK_SECRET_PARAMETER"]
        client("ssm", self.server.endpoint).put_parameter(
            Name=secret, Value=WEBHOOK_SECRET, Type="SecureString", Overwrite=True
        )

    def stop(self) -> None:
        self.server.stop()

    def environment(self, logical_id: str) -> dict[str, str]:
        return lambda_environment(self.specs[logical_id], endpoint=self.server.endpoint)

    def target(self, logical_id: str, event: Event, *, request: bool = True) -> Target:
        folder, module, function = self.built[logical_id]
        template = FIRST_REQUEST if request else IMPORT_ONLY
        return Target(
            template.format(module=module, function=function),
            event,
            self.environment(logical_id),
            [folder, self.layer_code],
        )

    def seed(self) -> tuple[str, str, dict[str, Any]]:
        """A product with one SKU and stock, through the API's own handlers; (product id, SKU, the key of
        its catalog item, which the baseline reads)."""
        sku = "BENCH-NAVY-M"
        created = self._call("CatalogAdminFunction", api_event("POST", "/products", body=_product(sku), claims=ADMIN))
        product_id = json.loads(created["body"])["productId"]
        # What the catalog's ProductChanged event does on AWS: the SKU's stock record, at zero.
        changed = json.loads((ROOT / "events/jobs/product_changed.json").read_text())
        changed["detail"]["data"].update(productId=product_id, variants=[{"sku": sku, "price": _product(sku)["price"]}])
        changed["detail"]["eventId"] = f"ProductChanged#{product_id}#1"
        self._call("StockRecordsFunction", changed)
        adjust = {"delta": 100, "reason": "restock"}
        self._call(
            "InventoryAdminFunction",
            api_event("POST", "/inventory/{sku}/adjustments", path={"sku": sku}, body=adjust, claims=ADMIN),
        )
        table = self.environment("CatalogPublicFunction")["CATALOG_TABLE"]
        items = client("dynamodb", self.server.endpoint).scan(TableName=table, Limit=1)["Items"]
        key = {name: items[0][name] for name in ("PK", "SK")}
        return product_id, sku, {"table": table, "key": key}

    def _call(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        folder, module, function = self.built[logical_id]
        statement = f"import {module}\nanswer = {module}.{function}(event, context)\nstatus = answer"
        _, _, answer = run(Target(statement, event, self.environment(logical_id), [folder, self.layer_code]))
        if isinstance(answer, dict) and int(answer.get("statusCode", 200)) >= 300:
            raise RuntimeError(f"seeding through {logical_id} failed: {answer}")
        return answer if isinstance(answer, dict) else {}


Samples = dict[str, list[tuple[float, float]]]
"""Target → (wall seconds, CPU seconds of the interpreter) per round."""


def measure(targets: dict[str, Target], rounds: int) -> tuple[Samples, dict[str, set[Any]]]:
    samples: Samples = {name: [] for name in targets}
    statuses: dict[str, set[Any]] = {name: set() for name in targets}
    for target in targets.values():
        # Unmeasured: moto loads a service's backend on its first call, which would bill one function.
        run(target)
    for _ in range(rounds):
        order = list(targets)
        random.shuffle(order)  # side by side, in a new order each round
        for name in order:
            seconds, cpu, status = run(targets[name])
            samples[name].append((seconds, cpu))
            statuses[name].add(status)
    return samples, statuses


def print_table(title: str, column: str, samples: Samples, statuses: dict[str, set[Any]]) -> None:
    """Wall time is the cold start; the interpreter's CPU time leaves out waiting (for the local AWS, for
    the other processes of a busy machine), so it is the steadier figure when the machine is shared."""
    first = next(iter(samples.values()))
    wall_baseline = statistics.median(wall for wall, _ in first)
    cpu_baseline = statistics.median(cpu for _, cpu in first)
    print(title + "\n")
    print(f"| function | {column} (ms) | × baseline | CPU (ms) | CPU × baseline | first answer |")
    print("|---|---:|---:|---:|---:|---|")
    for name, values in samples.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        answered = ", ".join(str(s) for s in sorted(statuses[name], key=str) if s is not None) or "—"
        print(
            f"| {name} | {wall * 1000:.0f} | {wall / wall_baseline:.2f} "
            f"| {cpu * 1000:.0f} | {cpu / cpu_baseline:.2f} | {answered} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--all", action="store_true", help="also the other functions, by import alone")
    args = parser.parse_args()
    if not (BUILD / "template.yaml").exists():
        sys.exit("no build output: run `make build` first")

    with tempfile.TemporaryDirectory() as layer_code:
        # Only the layer's own package: its third-party wheels are arm64.
        (Path(layer_code) / "common").symlink_to(BUILD / "CommonLayer" / "python" / "common")
        aws = LocalAws(Path(layer_code))
        aws.start()
        try:
            started = time.perf_counter()
            product_id, sku, read = aws.seed()
            events = first_requests(product_id, sku)
            plain = aws.environment("CatalogPublicFunction")
            targets = {BASELINE: Target(BASELINE_REQUEST, read, plain)}
            # The floor of any function on this stack: the framework alone, nothing of ours.
            floor = {**read, "request": api_event("GET", "/items/{sku}", path={"sku": sku})}
            targets[PYDANTIC] = Target(PYDANTIC_REQUEST, read, plain)
            targets[FRAMEWORK] = Target(FRAMEWORK_REQUEST, floor, plain)
            targets |= {name: aws.target(name, event) for name, event in events.items()}
            samples, statuses = measure(targets, args.rounds)
            python = sys.version.split()[0]
            print_table(
                f"Cold start of the API functions: import + first request, median of {args.rounds} fresh "
                f"interpreters (Python {python}, local AWS: moto)",
                "import + first request",
                samples,
                statuses,
            )
            if args.all:
                others = {IMPORT_BASELINE: Target(BASELINE_IMPORT, {}, plain)}
                others |= {name: aws.target(name, {}, request=False) for name in aws.built if name not in events}
                samples, statuses = measure(others, args.rounds)
                print_table(
                    f"The other functions: handler import alone, median of {args.rounds} fresh interpreters",
                    "handler import",
                    samples,
                    statuses,
                )
            print(f"({time.perf_counter() - started:.0f} s)")
        finally:
            aws.stop()


if __name__ == "__main__":
    main()
