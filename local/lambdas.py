"""Run the template's Lambda functions in this process.

moto's Docker-free Lambda backend (`moto.awslambda_simple`) answers every invoke with a canned
string. The local stack replaces its `invoke` with one that imports the function's real `Handler`
and calls it, so API requests, Step Functions tasks, EventBridge targets and direct `lambda:Invoke`
calls all run the project's code. Async invokes run on a thread; their failures are logged and
written to `<state dir>/failed-invocations/`, never lost.

moto does not apply a function's environment variables, and every function shares this process's
`os.environ`. So the stack applies the union of all functions' variables once, and refuses to start
when two functions give one variable different values: the project's rule is that services name
themselves in code, so a variable means the same thing wherever it is set.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.template import ACCOUNT_ID, REGION, Resolver, Template, TemplateError

log = logging.getLogger("local.lambdas")

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    timeout: int
    memory: int
    environment: dict[str, str]

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
        )
        specs[spec.name] = spec
    return specs


def merged_environment(specs: Mapping[str, FunctionSpec]) -> dict[str, str]:
    """The union of every function's variables; a variable set to two values fails loudly."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    conflicts: list[str] = []
    for spec in specs.values():
        for key, value in spec.environment.items():
            if key in merged and merged[key] != value:
                conflicts.append(f"  {key}: {owner[key]}={merged[key]!r} but {spec.logical_id}={value!r}")
                continue
            merged.setdefault(key, value)
            owner.setdefault(key, spec.logical_id)
    if conflicts:
        raise TemplateError(
            "functions disagree on environment variables; in one process a variable can have one value "
            "(name services in code, not in the environment):\n" + "\n".join(conflicts)
        )
    return merged


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Dispatcher:
    """Imports handlers (once) and calls them with real Lambda semantics for results and errors."""

    def __init__(self, specs: Mapping[str, FunctionSpec], failed_dir: Path) -> None:
        self.specs = dict(specs)
        self.failed_dir = failed_dir
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        # Lambda gives each request a container of its own; here they share one process, and Powertools'
        # REST resolver keeps the current request in class attributes (`BaseRouter.current_event`) and
        # its app's `context`. So API handlers run one at a time; tasks and event consumers stay concurrent.
        self._api_lock = threading.RLock()
        self._by_logical_id = {spec.logical_id: spec for spec in self.specs.values()}

    def spec(self, name: str) -> FunctionSpec:
        """The function named `name` (its local name, logical id, or ARN)."""
        name = name.rsplit(":function:", 1)[-1].split(":", 1)[0]
        spec = self.specs.get(name) or self._by_logical_id.get(name)
        if spec is None:
            raise KeyError(f"no function {name!r} in the template")
        return spec

    def handler(self, name: str) -> Handler:
        spec = self.spec(name)
        with self._lock:
            if spec.name not in self._handlers:
                module_name, _, attribute = spec.handler.rpartition(".")
                module = importlib.import_module(module_name)
                self._handlers[spec.name] = getattr(module, attribute)
            return self._handlers[spec.name]

    def warm(self) -> list[str]:
        """Import every handler now, so a broken one is reported at start and first calls are fast.
        Returns the errors rather than raising: one broken function should not hide the others."""
        errors = []
        for spec in self.specs.values():
            try:
                self.handler(spec.name)
            except Exception as error:
                errors.append(f"{spec.logical_id} ({spec.handler}): {type(error).__name__}: {error}")
        return errors

    def call(self, name: str, event: Any) -> Any:
        """Call the handler; exceptions propagate (the caller decides how Lambda would report them)."""
        spec = self.spec(name)
        context = LambdaContext(spec)
        started = time.monotonic()
        try:
            if _is_api_event(event):
                with self._api_lock:
                    return self.handler(name)(event, context)
            return self.handler(name)(event, context)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > spec.timeout:
                log.warning(
                    "%s ran %.1f s, over its %d s timeout (Lambda would have killed it)",
                    spec.name,
                    elapsed,
                    spec.timeout,
                )

    def invoke_sync(self, name: str, payload: bytes | str | None) -> tuple[bytes, bool]:
        """RequestResponse semantics: (payload, function_error). A handler exception becomes Lambda's
        error payload (`errorType` is the exception's class name, which Step Functions `Catch` matches)."""
        try:
            event = _decode(payload)
        except ValueError as error:
            return _error_payload(error), True
        try:
            result = self.call(name, event)
        except Exception as error:
            log.error("%s failed: %s: %s", name, type(error).__name__, loggable(error))
            return _error_payload(error), True
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
        record = {
            "function": spec.name,
            "source": source,
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error),
            "event": event,
            "failedAt": stamp,
        }
        path.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        log.error(
            "ASYNC INVOCATION FAILED: %s (%s) %s: %s -> %s",
            spec.name,
            source,
            type(error).__name__,
            loggable(error),
            path,
        )
        return path


def loggable(error: BaseException) -> str:
    """An error as a log line may show it: a pydantic validation error names its fields and problems but
    not the input values (an event's address, a token), which `str()` would print."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ == "ValidationError" and callable(errors):
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
            for e in errors(include_input=False, include_url=False)
        )
    return str(error)


def _is_api_event(event: Any) -> bool:
    """An API Gateway REST proxy event (what the local gateway sends)."""
    return isinstance(event, dict) and "httpMethod" in event and "requestContext" in event


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
    """Put layers and every function's CodeUri on `sys.path`, as Lambda's /opt/python and /var/task."""
    for path in [*template.layer_dirs(), *(spec.code_dir for spec in specs.values())]:
        text = str(path.resolve())
        if text not in sys.path:
            sys.path.insert(0, text)


def install_moto_hook(dispatcher: Dispatcher) -> None:
    """Replace the Docker-free Lambda backend's canned answer with a call into the real handler."""
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
