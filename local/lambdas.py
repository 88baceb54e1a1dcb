"""Run the template's Lambda functions as Lambda does: each in worker processes of its own.

moto's Docker-free Lambda backend (`moto.awslambda_simple`) answers every invoke with a canned
string. The local stack replaces its `invoke` with one that hands the event to the function's pool of
workers (`local.workers`), so API requests, Step Functions tasks, EventBridge targets and direct
`lambda:Invoke` calls all run the project's code. Async invokes run on a thread; their failures are
logged and written to `<state dir>/failed-invocations/`, never lost.

moto does not apply a function's environment variables, so the stack builds each worker's environment
itself (`lambda_environment`): the function's own template variables, what the Lambda runtime sets,
and the local stack's switches. Nothing of one function's environment reaches another, and requests
run concurrently, one per worker, as they do in AWS.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.aws import FAKE_CREDENTIALS
from local.iam import Grant, grants
from local.template import ACCOUNT_ID, REGION, Resolver, Template, TemplateError
from local.worker import loggable
from local.workers import Environment, InvokeError, Pools

__all__ = ["Dispatcher", "FunctionSpec", "InvokeError", "function_specs", "lambda_environment", "loggable"]

log = logging.getLogger("local.lambdas")

# Variables of the stack's own environment that reach every worker when set: developer switches.
PASSED_THROUGH = ("POWERTOOLS_DEV", "POWERTOOLS_METRICS_DISABLED", "AWS_CLIENT_READ_TIMEOUT")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    timeout: int
    memory: int
    environment: dict[str, str]
    grants: tuple[Grant, ...] = ()  # its role's statements (local.iam), which its workers apply

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def function_specs(template: Template, resolver: Resolver) -> dict[str, FunctionSpec]:
    """Every `AWS::Serverless::Function`, keyed by its local function name."""
    specs: dict[str, FunctionSpec] = {}
    for logical_id, props in template.functions():
        code_uri = props.get("CodeUri") or props.get("InlineCode")
        if not isinstance(code_uri, str) or "InlineCode" in props:
            raise TemplateError(f"{logical_id}: the local stack runs only functions with a local CodeUri")
        variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        spec = FunctionSpec(
            logical_id=logical_id,
            name=str(resolver.ref(logical_id)),
            handler=str(props["Handler"]),
            code_dir=(template.root / code_uri).resolve(),
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            environment={k: _env_value(v) for k, v in variables.items()},
            grants=grants(logical_id, props, resolver),
        )
        specs[spec.name] = spec
    return specs


def lambda_environment(
    spec: FunctionSpec,
    *,
    endpoint: str,
    overrides: Mapping[str, str] | None = None,
    switches: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A worker's whole `os.environ`: what the Lambda runtime sets (region, credentials, the function's
    name; here also `AWS_ENDPOINT_URL`, the local AWS), then the function's own template variables, then
    the local stack's `switches` (tracing off, log level), then `overrides` — but an override only where
    the function declares that variable in the template (`STRIPE_API_BASE` reaches the functions that
    call Stripe, no other)."""
    variables = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CLIENT_READ_TIMEOUT": "60",  # moto under load is slow; DynamoDB is not
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
    }
    variables.update({key: os.environ[key] for key in PASSED_THROUGH if key in os.environ})
    variables.update(spec.environment)
    variables.update(switches or {})
    variables.update({key: value for key, value in (overrides or {}).items() if key in spec.environment})
    return variables


def worker_environments(
    template: Template,
    specs: Mapping[str, FunctionSpec],
    *,
    endpoint: str,
    overrides: Mapping[str, str] | None = None,
    switches: Mapping[str, str] | None = None,
) -> list[Environment]:
    """What each function's workers start with: `sys.path` = its CodeUri, then the layers (Lambda's
    /var/task and /opt/python), then the installed packages; its environment from `lambda_environment`;
    its role's statements, which the worker applies to every AWS call (`local.worker.Role`)."""
    layers = [str(path.resolve()) for path in template.layer_dirs()]
    return [
        Environment(
            name=spec.name,
            arn=spec.arn,
            handler=spec.handler,
            paths=(str(spec.code_dir), *layers),
            variables=lambda_environment(spec, endpoint=endpoint, overrides=overrides, switches=switches),
            timeout=float(spec.timeout),
            memory=spec.memory,
            permissions=tuple(grant.as_json() for grant in spec.grants),
        )
        for spec in specs.values()
    ]


class Dispatcher:
    """Routes invokes to the functions' worker pools, with Lambda's semantics for results and errors."""

    def __init__(self, specs: Mapping[str, FunctionSpec], failed_dir: Path, pools: Pools) -> None:
        self.specs = dict(specs)
        self.failed_dir = failed_dir
        self.pools = pools
        self._by_logical_id = {spec.logical_id: spec for spec in self.specs.values()}

    def spec(self, name: str) -> FunctionSpec:
        """The function named `name` (its local name, logical id, or ARN)."""
        name = name.rsplit(":function:", 1)[-1].split(":", 1)[0]
        spec = self.specs.get(name) or self._by_logical_id.get(name)
        if spec is None:
            raise KeyError(f"no function {name!r} in the template")
        return spec

    def call(self, name: str, event: Any) -> Any:
        """The handler's result; `InvokeError` when it raised, timed out or crashed (the caller decides
        how Lambda would report it)."""
        spec = self.spec(name)
        try:
            return self.pools.invoke(spec.name, event)
        except InvokeError as error:
            if error.error_type in ("Sandbox.Timedout", "Runtime.ExitError"):
                log.error("%s: %s (its worker was replaced)", spec.name, error)
            raise

    def invoke_sync(self, name: str, payload: bytes | str | None) -> tuple[bytes, bool]:
        """RequestResponse semantics: (payload, function_error). A handler exception becomes Lambda's
        error payload (`errorType` is the exception's class name, which Step Functions `Catch` matches)."""
        try:
            event = _decode(payload)
        except ValueError as error:
            return _error_payload(error), True
        try:
            result = self.call(name, event)
        except InvokeError as error:
            log.error("%s failed: %s", name, error)
            return json.dumps(error.payload).encode(), True
        return json.dumps(result, default=str).encode(), False

    def invoke_async(self, name: str, event: Any, *, source: str) -> None:
        """Event semantics: run on a thread, record a failure instead of returning it."""
        spec = self.spec(name)

        def run() -> None:
            try:
                self.call(spec.name, event)
            except Exception as error:
                self.record_failure(spec, event, error, source)

        threading.Thread(target=run, name=f"async-{spec.name}", daemon=True).start()

    def record_failure(self, spec: FunctionSpec, event: Any, error: BaseException, source: str) -> Path:
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.failed_dir / f"{stamp}-{spec.name}-{uuid.uuid4().hex[:8]}.json"
        shape = error.payload if isinstance(error, InvokeError) else json.loads(_error_payload(error))
        record = {
            "function": spec.name,
            "source": source,
            "errorType": shape.get("errorType"),
            "errorMessage": shape.get("errorMessage"),
            "stackTrace": shape.get("stackTrace", []),
            "event": event,
            "failedAt": stamp,
        }
        path.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        log.error(
            "ASYNC INVOCATION FAILED: %s (%s) %s -> %s",
            spec.name,
            source,
            error if isinstance(error, InvokeError) else f"{type(error).__name__}: {loggable(error)}",
            path,
        )
        return path


def _decode(payload: bytes | str | None) -> Any:
    if payload is None or payload in (b"", ""):
        return {}
    text = payload.decode() if isinstance(payload, bytes) else payload
    return json.loads(text)


def _error_payload(error: BaseException) -> bytes:
    return json.dumps(
        {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_exception(error),
        }
    ).encode()


def add_code_paths(template: Template, specs: Mapping[str, FunctionSpec]) -> None:
    """Put layers and every function's CodeUri on this process's `sys.path`: for tools that import every
    handler at once (`local.openapi`), never for the stack, whose functions run in their own workers."""
    for path in [*template.layer_dirs(), *(spec.code_dir for spec in specs.values())]:
        text = str(path.resolve())
        if text not in sys.path:
            sys.path.insert(0, text)


def install_moto_hook(dispatcher: Dispatcher) -> None:
    """Replace the Docker-free Lambda backend's canned answer with an invoke of the function's workers."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes | None:
        function = self.get_function(function_name, qualifier)
        try:
            dispatcher.spec(function.function_name)
        except KeyError:
            result: bytes | None = original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[assignment]
            return result
        invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            dispatcher.invoke_async(function.function_name, _decode(body), source="lambda:Invoke")
            return b""
        payload, failed = dispatcher.invoke_sync(function.function_name, body)
        if failed:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    LambdaSimpleBackend.invoke = invoke
