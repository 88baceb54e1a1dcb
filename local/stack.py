"""The whole local stack, started in dependency order and stopped in reverse.

Order matters (`Stack._start` lists the steps; each says why it sits where it does): moto's config
before any resource (it switches backends), the run's signing key before Cognito, Cognito before
anything whose environment refers to the pool, every resource before the functions' environments are
built (they name them), the gateway before localstripe's webhook and the seed (both call it). Functions
run in worker processes started on first use (`local.workers`); stopping the stack stops them all. The
running stack publishes its ports and ids in `<state dir>/stack.json` for `token`, `pay`, `trigger`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from local import cognito, outbox
from local.aws import FAKE_CREDENTIALS, MotoServer, Provisioner, client
from local.docs import SwaggerDocs
from local.eventbridge import install_rule_hook
from local.gateway import CognitoVerifier, CorsPreflight, Gateway, GatewayAnswers, GatewayServer
from local.lambdas import Dispatcher, FunctionSpec, function_specs, install_moto_hook, worker_environments
from local.moto_patches import install_signing_key
from local.sqs import SqsPollers, sqs_sources
from local.stripe import SECRET_KEY, LocalStripe, StripeProxy, webhook_secret, write_faults_secret
from local.template import REGION, Resolver, Template, TemplateError
from local.web import DEFAULT_DIST, PUBLISHABLE_KEY, WebServer, web_config, with_origins
from local.workers import DEFAULT_IDLE_SECONDS, DEFAULT_SIZE, Pools

log = logging.getLogger("local")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
STATE_FILE = "stack.json"
READY_PREFIX = "Storekeeper local stack ready: "


def default_state_dir() -> Path:
    return Path(os.environ.get("LOCAL_STATE_DIR") or REPO_ROOT / ".local")


@dataclass
class Options:
    template: Path = DEFAULT_TEMPLATE
    api_port: int = 3000
    aws_port: int = 5050
    stripe_port: int = 8420
    state_dir: Path = field(default_factory=default_state_dir)
    seed: bool = True
    seed_pricing: bool = True
    """With `seed`: the demo shop's tax rates and shipping methods too (a shop with methods makes checkout
    name one where a country has several)."""
    stripe: bool = True
    quiet: bool = False
    parameters: dict[str, str] = field(default_factory=dict)
    workers: int = DEFAULT_SIZE  # per function, at most
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    quick_retries: bool = False
    dynamodb_model: str = field(default_factory=lambda: os.environ.get("LOCAL_DYNAMODB_MODEL", "serial"))
    """"serial": moto applies every DynamoDB request; "aws": hot items throttle and transactions conflict
    as on AWS (`local.dynamodb_model`)."""
    progress: Callable[[str], None] | None = None
    """Told what the start is doing, step by step (the terminal's progress line)."""
    web_port: int | None = None
    """Serve the web apps (`web_dist`) at this port, an origin the API allows; None: no web apps."""
    web_dist: Path = DEFAULT_DIST

    @classmethod
    def on_free_ports(cls, state_dir: Path, **options: Any) -> Options:
        """A stack of its own beside any other (benchmarks, tests): API, AWS and Stripe on free ports."""
        api, aws, stripe = (_free_port() for _ in range(3))
        return cls(api_port=api, aws_port=aws, stripe_port=stripe, state_dir=state_dir, **options)


def read_state(state_dir: Path) -> dict[str, Any]:
    path = state_dir / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no running local stack: {path} is missing (start one with `make run`)")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refuse_if_running(state_dir: Path) -> None:
    """One stack per state dir: a second start must neither fight over ports nor delete the state
    file the first one's `token`, `pay` and `trigger` read."""
    try:
        pid = int(read_state(state_dir)["pid"])
    except (FileNotFoundError, KeyError, ValueError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        (state_dir / STATE_FILE).unlink(missing_ok=True)  # left behind by a stack that was killed
        return
    except PermissionError:
        pass
    raise RuntimeError(f"a local stack already runs as pid {pid} (state in {state_dir}); stop it first")


@dataclass(frozen=True)
class _Blueprint:
    """What the start steps build from: the template, its resolver (which binds moto's ids as the
    resources are made), and the stage."""

    template: Template
    resolver: Resolver
    stage: str


@dataclass(frozen=True)
class _RunSecrets:
    """Made at every start: the webhook signing secret and the file with the Stripe fault switch's secret."""

    webhook: str
    faults_file: Path


class Stack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.state_dir = options.state_dir.resolve()
        self.outbox_dir = self.state_dir / "outbox"
        self.failed_dir = self.state_dir / "failed-invocations"
        self.moto: MotoServer | None = None
        self.gateway: GatewayServer | None = None
        self.stripe: LocalStripe | None = None
        self.stripe_proxy: StripeProxy | None = None
        self.pools: Pools | None = None
        self.sqs: SqsPollers | None = None
        self.web: WebServer | None = None
        self._undo_signing_key: Any = None
        self.state: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.seeded = 0

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.state["startSeconds"] = round(time.monotonic() - started, 2)

    def _start(self) -> None:
        """The steps, in the order the module docstring explains; each names what the next ones need."""
        blueprint = self._read_template()
        self._progress("starting the local Stripe")
        self._boot_localstripe()
        self._progress("starting the local AWS")
        self._start_moto()
        provisioner = self._provision_resources(blueprint)
        self._progress("creating the user pool")
        user_pools = self._create_user_pools(blueprint)
        specs = _stripe_callers_declare_the_base(function_specs(blueprint.template, blueprint.resolver))
        secrets = _RunSecrets(webhook=webhook_secret(), faults_file=write_faults_secret(self.state_dir))
        overrides = self._start_stripe_proxy(secrets)
        self._progress("deploying the functions and state machines")
        dispatcher = self._start_workers(blueprint.template, specs, overrides)
        domains = self._provision_functions(blueprint, provisioner, specs)
        self._poll_queues(blueprint, dispatcher)
        self._progress("serving the API")
        self._serve_gateway(blueprint, user_pools, dispatcher)
        self._connect_stripe(blueprint.stage, secrets.webhook)
        pool = self._mint_demo_tokens(user_pools)
        self.state = self._describe(blueprint, provisioner, pool, secrets, domains)
        self._serve_web()
        if self.options.seed:
            self._progress("seeding the demo shop (products, customers, orders)")
            self._seed(blueprint.template)
        self._publish_state()

    def _progress(self, step: str) -> None:
        log.info("%s", step)
        if self.options.progress is not None:
            self.options.progress(step)

    def _read_template(self) -> _Blueprint:
        """Claim the state dir (one stack per dir) and read the template every later step builds from."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        refuse_if_running(self.state_dir)
        template = Template(self.options.template)
        parameters = self.options.parameters
        if self.options.web_port is not None:
            # Bound now: the API's AllowedOrigins must name the web apps' origin before anything is built.
            self.web = WebServer(self.options.web_dist, port=self.options.web_port)
            defaults = template.parameter_defaults().get("AllowedOrigins", "")
            parameters = with_origins(parameters, defaults, self.web.origins)
            # Referral links and mails point at the shop this stack serves, unless told otherwise.
            parameters = {"ShopUrl": self.web.url, **parameters}
        resolver = Resolver(template, template.parameter_defaults(parameters))
        return _Blueprint(template, resolver, resolver.parameters.get("Stage", "local"))

    def _boot_localstripe(self) -> None:
        """The local Stripe, a subprocess (GPL: run, never imported), started first and waited for until it
        answers: a missing or broken localstripe fails the start before moto and the workers are built."""
        if self.options.stripe:
            self.stripe = LocalStripe(_free_port(), self.state_dir / "localstripe.log")
            self.stripe.start()

    def _start_moto(self) -> None:
        """The local AWS, with moto patched (`local.moto_patches`) and configured before any resource
        exists (its config switches backends). This process's AWS clients and the moto interpreter's own
        calls are pointed at it; workers get the endpoint through their environments."""
        self.moto = MotoServer(port=self.options.aws_port, dynamodb_model=self.options.dynamodb_model)
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.setdefault("AWS_CLIENT_READ_TIMEOUT", "60")  # moto under load is slow; DynamoDB is not
        os.environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": self.moto.endpoint})
        self.moto.start()

    def _provision_resources(self, blueprint: _Blueprint) -> Provisioner:
        """The resources that functions' environments name (tables, buses, buckets, queues, parameters): they
        must exist, with moto's ids bound in the resolver, before those environments are built."""
        provisioner = Provisioner(
            blueprint.template, blueprint.resolver, self._aws_endpoint, quick_retries=self.options.quick_retries
        )
        provisioner.role()
        provisioner.tables()
        provisioner.buses()
        provisioner.buckets()
        provisioner.queues()
        provisioner.parameters()
        return provisioner

    def _create_user_pools(self, blueprint: _Blueprint) -> dict[str, cognito.Pool]:
        """The run's signing key first (a pool takes its key when created), then the template's pools,
        whose ids functions' environments and the gateway's authorizers refer to."""
        self._undo_signing_key = install_signing_key()
        return cognito.create_pools(blueprint.template, blueprint.resolver, self._aws_endpoint)

    def _start_stripe_proxy(self, secrets: _RunSecrets) -> dict[str, str]:
        """The functions reach localstripe through the proxy that adds the webhooks it never sends.
        Returns the environment overrides that point the functions at it (none without Stripe)."""
        if self.stripe is None:
            return {}
        self.stripe_proxy = StripeProxy(
            self.stripe.url,
            f"http://127.0.0.1:{self.options.api_port}/payments/webhook",
            secrets.webhook,
            self.options.stripe_port,
            faults_secret=secrets.faults_file.read_text(encoding="utf-8").strip(),
        )
        self.stripe_proxy.start()
        return {"STRIPE_API_BASE": self.stripe_proxy.url}

    def _start_workers(
        self, template: Template, specs: dict[str, FunctionSpec], overrides: dict[str, str]
    ) -> Dispatcher:
        """Worker pools per function (started on first use), and moto's Lambda, EventBridge and SES
        backends hooked to them and to the outbox, before anything can invoke a function or send mail."""
        switches = {"POWERTOOLS_TRACE_DISABLED": "true"}  # no X-Ray daemon here
        if self.options.quiet:
            switches["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        self.pools = Pools(
            worker_environments(template, specs, endpoint=self._aws_endpoint, overrides=overrides, switches=switches),
            size=self.options.workers,
            idle_seconds=self.options.idle_seconds,
        )
        dispatcher = Dispatcher(specs, self.failed_dir, self.pools)
        install_moto_hook(dispatcher)
        install_rule_hook(dispatcher, self._aws_endpoint)
        outbox.install_ses_hook(outbox.Outbox(self.outbox_dir))
        return dispatcher

    def _provision_functions(
        self, blueprint: _Blueprint, provisioner: Provisioner, specs: dict[str, FunctionSpec]
    ) -> list[str]:
        """What refers to functions: their senders' verified domains, the functions themselves, the state
        machines that call them, and the rules and schedules that target them. Returns the domains."""
        values = {f"{spec.name}.{key}": value for spec in specs.values() for key, value in spec.environment.items()}
        domains = provisioner.email_identities(values, extra_domains=["example.com"])
        provisioner.functions(specs.values())
        provisioner.state_machines()
        provisioner.rules_and_schedules(blueprint.template.events(blueprint.resolver.resolve))
        provisioner.event_rules()
        return domains

    def _poll_queues(self, blueprint: _Blueprint, dispatcher: Dispatcher) -> None:
        """Lambda's SQS event sources (`local.sqs`), once the queues and the rules that feed them exist."""
        self.sqs = SqsPollers(sqs_sources(blueprint.template, blueprint.resolver), dispatcher, self._aws_endpoint)
        self.sqs.start()

    def _serve_gateway(
        self, blueprint: _Blueprint, user_pools: dict[str, cognito.Pool], dispatcher: Dispatcher
    ) -> None:
        """The API as API Gateway serves it: the template's routes, authorizers, gateway responses and
        CORS, and the docs. Before the Stripe webhook and the seed, which both call it."""
        template, resolver = blueprint.template, blueprint.resolver
        app = Gateway(
            template.routes(),
            dispatcher,
            self._verifiers(template, resolver, user_pools),
            stage=blueprint.stage,
            answers=GatewayAnswers(resolver.resolve(template.gateway_responses())),
            cors=CorsPreflight.of(resolver.resolve(template.cors())),
            docs=SwaggerDocs(template.root / "docs" / "openapi.json", web_url=self.web.url if self.web else None),
            quiet=self.options.quiet,
        )
        self.gateway = GatewayServer(app, port=self.options.api_port)
        self.gateway.start()

    def _connect_stripe(self, stage: str, webhook: str) -> None:
        """Stripe's keys where the payments functions read them (SSM), and localstripe's webhook pointed
        at the gateway with the run's secret."""
        ssm = client("ssm", self._aws_endpoint)
        for name, value in (("webhook-secret", webhook), ("secret-key", SECRET_KEY)):
            ssm.put_parameter(
                Name=f"/storekeeper/{stage}/stripe/{name}", Value=value, Type="SecureString", Overwrite=True
            )
        if self.stripe is not None:
            self.stripe.register_webhook(f"{self._api_url}/payments/webhook", webhook)

    def _mint_demo_tokens(self, user_pools: dict[str, cognito.Pool]) -> cognito.Pool | None:
        """The demo users in the first pool, and an ID token for each (the banner and the seed use them).
        Returns that pool, or None when the template has none."""
        pool = next(iter(user_pools.values()), None)
        if pool is not None and pool.client_ids:
            for email, group in cognito.DEMO_USERS.items():
                if group is None or group in pool.groups:
                    self.tokens[email] = cognito.token_for(
                        self._aws_endpoint, pool.id, pool.client_ids[0], email, group
                    )
        return pool

    def _describe(
        self,
        blueprint: _Blueprint,
        provisioner: Provisioner,
        pool: cognito.Pool | None,
        secrets: _RunSecrets,
        domains: list[str],
    ) -> dict[str, Any]:
        """What `token`, `pay`, `trigger`, the banner and tests read about the running stack."""
        return {
            "pid": os.getpid(),
            "template": str(blueprint.template.path),
            "stage": blueprint.stage,
            "region": REGION,
            "apiUrl": self._api_url,
            "awsEndpoint": self._aws_endpoint,
            "stripeUrl": self.stripe_proxy.url if self.stripe_proxy else None,
            "stripePid": self.stripe.pid if self.stripe else None,
            "outbox": str(self.outbox_dir),
            "failedInvocations": str(self.failed_dir),
            "faultsSecretFile": str(secrets.faults_file),
            "workersPerFunction": self.options.workers,
            "userPoolId": pool.id if pool else None,
            "userPoolClientId": pool.client_ids[0] if pool and pool.client_ids else None,
            "tables": provisioner.created.tables,
            "functions": provisioner.created.functions,
            "stateMachines": provisioner.created.state_machines,
            "rules": provisioner.created.rules,
            "schedules": provisioner.created.schedules,
            "verifiedDomains": domains,
        }

    def _serve_web(self) -> None:
        """The web apps, with a `config.json` naming this stack (moto's Cognito, localstripe's Stripe.js)."""
        if self.web is None:
            return
        self.web.start(
            web_config(
                api_url=self.state["apiUrl"],
                region=self.state["region"],
                user_pool_id=self.state["userPoolId"],
                user_pool_client_id=self.state["userPoolClientId"],
                cognito_endpoint=self.state["awsEndpoint"],
                stripe_url=self.state["stripeUrl"],
                publishable_key=PUBLISHABLE_KEY,
            )
        )
        self.state["webUrl"] = self.web.url
        self.state["webBuilt"] = self.web.built

    def _publish_state(self) -> None:
        """Last: the state file is the sign that the stack is up (`token`, `pay`, `trigger` read it)."""
        (self.state_dir / STATE_FILE).write_text(json.dumps(self.state, indent=2), encoding="utf-8")

    @property
    def _aws_endpoint(self) -> str:
        if self.moto is None:
            raise RuntimeError("the local AWS is not running (start moto first)")
        return self.moto.endpoint

    @property
    def _api_url(self) -> str:
        if self.gateway is None:
            raise RuntimeError("the gateway is not serving (serve it first)")
        return self.gateway.url

    def _verifiers(
        self, template: Template, resolver: Resolver, pools: dict[str, cognito.Pool]
    ) -> dict[str, CognitoVerifier]:
        verifiers = {}
        by_id = {pool.id: pool for pool in pools.values()}
        for name, pool_arn in template.cognito_authorizers().items():
            pool_id = str(resolver.resolve(pool_arn)).rsplit("/", 1)[-1]
            if pool_id not in by_id:
                raise TemplateError(f"authorizer {name} points at a user pool the template does not create")
            pool = by_id[pool_id]
            verifiers[name] = CognitoVerifier(
                f"{self._aws_endpoint}/{pool.id}/.well-known/jwks.json", pool.issuer, pool.client_ids
            )
        return verifiers

    def _seed(self, template: Template) -> None:
        """Demo products, order history, tax rates and shipping methods through the API, as an admin and
        customers would make them."""
        from local.demo_data import (
            DEMO_ADDRESS,
            DEMO_ORDERS,
            DEMO_PROFILES,
            DEMO_SHIPPING_METHODS,
            DEMO_STOCK,
            DEMO_TAX_RATES,
            PRODUCTS,
        )
        from local.seed import seed_history, seed_pricing, seed_products, seed_profiles

        creates_products = any(r.method == "POST" and r.path == "/products" for r in template.routes())
        admin = self.tokens.get("admin@example.com")
        if not creates_products or admin is None or self.gateway is None:
            log.info("no POST /products route or no admin user in this template: nothing to seed")
            return
        self.seeded = seed_products(self.gateway.url, admin, PRODUCTS)
        if any(r.method == "PUT" and r.path == "/me" for r in template.routes()):
            seed_profiles(self.gateway.url, self.tokens, DEMO_PROFILES)
        seed_history(
            self.gateway.url,
            admin,
            self.tokens,
            self.stripe_proxy.url if self.stripe_proxy else None,
            PRODUCTS,
            DEMO_ORDERS,
            units=DEMO_STOCK,
            address=DEMO_ADDRESS,
        )
        sets_rates = any(r.method == "PUT" and r.path == "/tax-rates/{country}" for r in template.routes())
        if self.options.seed_pricing and sets_rates:
            seed_pricing(self.gateway.url, admin, DEMO_TAX_RATES, DEMO_SHIPPING_METHODS)

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        if self.state.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / STATE_FILE).unlink()
        for component in (self.web, self.gateway, self.sqs, self.pools, self.stripe_proxy, self.stripe, self.moto):
            if component is not None:
                try:
                    component.stop()
                except Exception:
                    log.exception("failed to stop %s", type(component).__name__)
        self.web = None
        self.gateway = self.sqs = self.pools = self.stripe_proxy = self.stripe = self.moto = None
        if self._undo_signing_key is not None:
            self._undo_signing_key()
            self._undo_signing_key = None

    # ------------------------------------------------------------------ banner
    def banner(self, *, show_tokens: bool = True) -> str:
        """What the stack prints when ready. Tokens only on a terminal (`show_tokens`): when the output
        goes to a file (tests, CI), it is a log, and bearer tokens do not belong in logs."""
        state = self.state
        lines = [""]
        if state.get("webUrl"):
            built = "" if state.get("webBuilt") else "   (not built yet: make web)"
            lines.append(f"  shop         {state['webUrl']}/{built}")
            lines.append(f"  console      {state['webUrl']}/admin/")
        lines += [
            f"  API          {state['apiUrl']}   (docs {state['apiUrl']}/docs)",
            f"  local AWS    {state['awsEndpoint']}   (AWS_ENDPOINT_URL for the aws CLI / boto3)",
            f"  localstripe  {state['stripeUrl'] or '(disabled)'}",
            f"  outbox       {state['outbox']}",
            f"  failed async {state['failedInvocations']}",
            f"  user pool    {state['userPoolId']}  client {state['userPoolClientId']}",
            f"  demo data    {self.seeded} products",
            f"  demo users   {', '.join(_demo_user(e, g) for e, g in cognito.DEMO_USERS.items())}",
            f"               password {cognito.DEMO_PASSWORD}",
            f"  functions    {len(state['functions'])}, each in up to {state['workersPerFunction']} worker processes",
            f"  started in   {state.get('startSeconds', 0):.1f} s",
        ]
        if state["schedules"]:
            lines.append(f"  schedules    {', '.join(sorted(state['schedules']))}  (python -m local trigger NAME)")
        lines.append("")
        for email, token in self.tokens.items():
            lines.append(f"  token {email}:")
            lines.append(f"    {token}" if show_tokens else f"    python -m local token --email {email}")
        lines.append("")
        lines.append(READY_PREFIX + state["apiUrl"])
        return "\n".join(lines)


def _demo_user(email: str, group: str | None) -> str:
    return f"{email} ({group})" if group else email


def _stripe_callers_declare_the_base(specs: dict[str, FunctionSpec]) -> dict[str, FunctionSpec]:
    """A function that reads a Stripe key must declare `STRIPE_API_BASE` (empty in AWS: Stripe itself),
    because the local Stripe's address reaches only the functions that declare it
    (`tests/local/test_template.py` holds the template to that). One that does not would call
    api.stripe.com from the local stack: it is given the variable, with a loud error in the log."""
    fixed = dict(specs)
    for name, spec in specs.items():
        if "STRIPE_SECRET_KEY_PARAMETER" in spec.environment and "STRIPE_API_BASE" not in spec.environment:
            log.error(
                '%s reads a Stripe key but does not declare STRIPE_API_BASE: add `STRIPE_API_BASE: ""` to its '
                "Environment in template.yaml (empty = Stripe itself); pointing it at the local Stripe anyway",
                spec.logical_id,
            )
            fixed[name] = dataclasses.replace(spec, environment={**spec.environment, "STRIPE_API_BASE": ""})
    return fixed


def run_forever(stack: Stack, terminal: TextIO | None = None) -> None:
    """Block until SIGINT or SIGTERM, then stop everything (the caller's `finally` does the stopping).
    The banner goes to stdout (tokens only if it is a terminal) and, when the logs go to a file, to
    `terminal` too, with the tokens."""
    import signal
    import threading

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    print(stack.banner(show_tokens=sys.stdout.isatty()), flush=True)
    sys.stdout.flush()
    if terminal is not None:
        print(stack.banner(show_tokens=terminal.isatty()), file=terminal, flush=True)
    stop.wait()
