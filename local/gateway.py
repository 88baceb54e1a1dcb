"""The local API Gateway: REST proxy (v1) events for the template's `Api` routes, with a Cognito authorizer.

It behaves like API Gateway where a client can tell: an unknown route or method is a
MISSING_AUTHENTICATION_TOKEN answer; a missing, forged, expired or wrong-audience token on a protected
route is UNAUTHORIZED; a handler crash or a malformed proxy response is a 502 (DEFAULT_5XX). Each is
shaped by the template's `GatewayResponses`, as in AWS. Claims reach the handler as strings under
`requestContext.authorizer.claims`, groups comma-separated, the way REST APIs pass them. `OPTIONS` on a
path with an `OPTIONS` route (this template's `PreflightFunction`) reaches that function like any route;
on another route's path, if the API has SAM's `Cors`, it is answered like SAM's mock integration (never
authorized, never reaches a handler). `/docs` serves Swagger UI over `docs/openapi.json` (local only;
see `local.docs`).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local.docs import SwaggerDocs
from local.lambdas import InvokeError
from local.template import ACCOUNT_ID, Route

log = logging.getLogger("local.gateway")

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "+json", "+xml")


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, route: Route) -> CompiledRoute:
        names: list[str] = []
        parts = []
        for segment in route.path.strip("/").split("/"):
            match = re.fullmatch(r"\{([^}+]+)(\+?)\}", segment)
            if match:
                names.append(match.group(1))
                parts.append(
                    f"(?P<{_group(match.group(1))}>.+)" if match.group(2) else f"(?P<{_group(match.group(1))}>[^/]+)"
                )
            else:
                parts.append(re.escape(segment))
        return cls(route, re.compile("^/" + "/".join(parts) + "/?$"), tuple(names))

    @property
    def literal_segments(self) -> int:
        return sum(1 for segment in self.route.path.split("/") if segment and not segment.startswith("{"))


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


class Invoker(Protocol):
    """What the gateway needs of `local.lambdas.Dispatcher`: a function's answer to an event."""

    def call(self, name: str, event: Any) -> Any: ...


class Authorizer(Protocol):
    """What the gateway needs of a `CognitoVerifier`: the claims of a valid `Authorization` header."""

    def claims(self, header: str | None) -> dict[str, Any] | None: ...


class CognitoVerifier:
    """Checks ID tokens the way API Gateway's Cognito authorizer does: RS256 signature against the pool's
    JWKS, `exp`, `iss`, `token_use == id`, and an audience among the pool's app clients."""

    def __init__(self, jwks_url: str, issuer: str, audiences: Iterable[str]) -> None:
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True)
        self.issuer = issuer
        self.audiences = list(audiences)

    def claims(self, header: str | None) -> dict[str, Any] | None:
        if not header:
            return None
        token = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.PyJWTError as error:
            log.info("token refused: %s", error)
            return None
        return claims if claims.get("token_use") == "id" else None


def rest_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API hands them to Lambda: every value a string, lists comma-joined, and
    `exp`/`iat` as dates in the format API Gateway uses."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list):
            out[key] = ",".join(str(v) for v in value)
        elif key in ("exp", "iat") and isinstance(value, int):
            out[key] = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _is_text(content_type: str) -> bool:
    return not content_type or any(marker in content_type.lower() for marker in _TEXT_TYPES)


# API Gateway's defaults, for response types the template does not customise.
_DEFAULT_ANSWERS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, '{"message": "Missing Authentication Token"}'),
    "UNAUTHORIZED": (401, '{"message": "Unauthorized"}'),
    "THROTTLED": (429, '{"message": "Too Many Requests"}'),
    "QUOTA_EXCEEDED": (429, '{"message": "Limit Exceeded"}'),
    "DEFAULT_5XX": (502, '{"message": "Internal server error"}'),
}
_FAMILY = {
    "MISSING_AUTHENTICATION_TOKEN": "DEFAULT_4XX",
    "UNAUTHORIZED": "DEFAULT_4XX",
    "THROTTLED": "DEFAULT_4XX",
    "QUOTA_EXCEEDED": "DEFAULT_4XX",
    "DEFAULT_5XX": "DEFAULT_5XX",
}


def _header_value(mapping: str, request_headers: Headers | None) -> str | None:
    """A response parameter's value as API Gateway maps it: `'static'` or `method.request.header.X`."""
    if len(mapping) >= 2 and mapping[0] == mapping[-1] == "'":
        return mapping[1:-1]
    prefix = "method.request.header."
    if mapping.startswith(prefix) and request_headers is not None:
        return request_headers.get(mapping[len(prefix) :])
    return None


class GatewayAnswers:
    """The gateway's own responses, customised by the template's `GatewayResponses` as API Gateway
    does: the specific type first, then its DEFAULT_4XX/5XX family, then API Gateway's default.
    `ResponseParameters.Headers` (CORS, for instance) are added as API Gateway maps them."""

    def __init__(self, customised: Mapping[str, Mapping[str, Any]]) -> None:
        self.customised = {key: dict(value) for key, value in customised.items()}

    def __call__(self, kind: str, request_id: str, request_headers: Headers | None = None) -> Response:
        status, body = _DEFAULT_ANSWERS[kind]
        default_message = json.loads(body)["message"]
        spec = self.customised.get(kind) or self.customised.get(_FAMILY[kind]) or {}
        status = int(spec.get("StatusCode", status))
        template = (spec.get("ResponseTemplates") or {}).get("application/json")
        if template:
            body = template.replace("$context.error.messageString", json.dumps(default_message))
            body = body.replace("$context.requestId", request_id)
        headers = {"x-amzn-RequestId": request_id}
        for name, mapping in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items():
            value = _header_value(str(mapping), request_headers)
            if value is not None:
                headers[name] = value
        return Response(body, status=status, content_type="application/json", headers=headers)


@dataclass(frozen=True)
class CorsPreflight:
    """SAM's `Cors` of an API, as its generated `OPTIONS` mock integration answers: 200, `{}`, and the
    configured headers whatever the request's `Origin` (the values are fixed at deploy time). Without
    `AllowMethods`, SAM lists the path's own methods plus OPTIONS."""

    allow_origin: str
    allow_headers: str | None = None
    allow_methods: str | None = None
    max_age: str | None = None

    @classmethod
    def of(cls, spec: Any) -> CorsPreflight | None:
        """From the resolved `Cors` property: a quoted origin string, or the object form."""
        if not spec:
            return None
        if isinstance(spec, str):
            spec = {"AllowOrigin": spec}

        def unquote(key: str) -> str | None:
            value = spec.get(key)
            return None if value is None else str(value).strip("'")

        return cls(
            allow_origin=unquote("AllowOrigin") or "*",
            allow_headers=unquote("AllowHeaders"),
            allow_methods=unquote("AllowMethods"),
            max_age=unquote("MaxAge"),
        )

    def answer(self, path_methods: Iterable[str], request_id: str) -> Response:
        headers = {"x-amzn-RequestId": request_id, "Access-Control-Allow-Origin": self.allow_origin}
        if self.allow_headers:
            headers["Access-Control-Allow-Headers"] = self.allow_headers
        methods = self.allow_methods or ",".join(sorted({*path_methods, "OPTIONS"}))
        headers["Access-Control-Allow-Methods"] = methods
        if self.max_age is not None:
            headers["Access-Control-Max-Age"] = self.max_age
        return Response("{}\n", status=200, content_type="application/json", headers=headers)


class Gateway:
    """A WSGI app: match route → authorize → build the proxy event → call the handler → map the answer."""

    def __init__(
        self,
        routes: Iterable[Route],
        dispatcher: Invoker,
        verifiers: Mapping[str, Authorizer],
        *,
        stage: str,
        answers: GatewayAnswers | None = None,
        cors: CorsPreflight | None = None,
        docs: SwaggerDocs | None = None,
        api_id: str = "local",
        quiet: bool = False,
    ) -> None:
        compiled = [CompiledRoute.of(route) for route in routes]
        # More literal segments first: /products/search beats /products/{productId}, as in API Gateway.
        self.routes = sorted(compiled, key=lambda r: (-r.literal_segments, r.route.path))
        self.dispatcher = dispatcher
        self.verifiers = dict(verifiers)
        self.stage = stage
        self.answers = answers or GatewayAnswers({})
        self.cors = cors
        self.docs = docs
        self.api_id = api_id
        self.quiet = quiet

    def match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        for candidate in self.routes:
            found = candidate.pattern.match(path)
            if found and candidate.route.method in (method, "ANY"):
                return candidate, {name: found.group(_group(name)) for name in candidate.names}
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        response = self.handle(request)
        if not self.quiet:
            log.info(
                "%s %s -> %d (%.0f ms)",
                request.method,
                request.full_path.rstrip("?"),
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
        return response(environ, start_response)

    def path_methods(self, path: str) -> list[str]:
        """The methods of the routes whose path matches `path` (the resource API Gateway would pick)."""
        return [candidate.route.method for candidate in self.routes if candidate.pattern.match(path)]

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        if self.docs is not None:
            page = self.docs.answer(request.method, request.path)
            if page is not None:
                return page
        found = self.match(request.method, request.path)
        if found is None:
            methods = self.path_methods(request.path) if request.method == "OPTIONS" else []
            if methods and self.cors is not None:
                return self.cors.answer(methods, request_id)
            return self.answers("MISSING_AUTHENTICATION_TOKEN", request_id, request.headers)
        compiled, path_parameters = found
        claims: dict[str, Any] | None = None
        if compiled.route.authorizer is not None:
            verifier = self.verifiers[compiled.route.authorizer]
            claims = verifier.claims(request.headers.get("Authorization"))
            if claims is None:
                return self.answers("UNAUTHORIZED", request_id, request.headers)
        event = self.event(request, compiled.route, path_parameters, claims, request_id)
        try:
            result = self.dispatcher.call(compiled.route.function, event)
            return self.response(result, request_id, request.headers)
        except InvokeError as error:
            trace = "".join(error.payload.get("stackTrace") or [])
            log.error("%s failed on %s %s: %s\n%s", compiled.route.function, request.method, request.path, error, trace)
            return self.answers("DEFAULT_5XX", request_id, request.headers)
        except Exception:
            log.exception("%s failed on %s %s", compiled.route.function, request.method, request.path)
            return self.answers("DEFAULT_5XX", request_id, request.headers)

    def event(
        self,
        request: Request,
        route: Route,
        path_parameters: dict[str, str],
        claims: dict[str, Any] | None,
        request_id: str,
    ) -> dict[str, Any]:
        """A REST API proxy event, field for field as API Gateway builds it."""
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers[name] = value  # the last value wins, as in API Gateway
            multi_headers.setdefault(name, []).append(value)
        source_ip = request.remote_addr or "127.0.0.1"
        for name, value in (
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Port", str(request.host.rsplit(":", 1)[-1])),
        ):
            if name not in headers:
                headers[name] = value
                multi_headers[name] = [value]
        query = {key: values[-1] for key, values in request.args.lists()}
        multi_query = {key: list(values) for key, values in request.args.lists()}
        raw = request.get_data(cache=False)
        body: str | None = None
        is_base64 = False
        if raw:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and _is_text(request.content_type or ""):
                body = text
            else:
                body, is_base64 = base64.b64encode(raw).decode(), True
        now = datetime.now(UTC)
        resource_path = route.path
        request_context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api_id,
            "domainName": request.host,
            "domainPrefix": request.host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": request.headers.get("User-Agent"),
                "userArn": None,
            },
            # The path as the client called it: this gateway serves at the root, like a custom domain
            # without a base path (on API Gateway's own domain it would start with `/{stage}`), so links
            # built from it (`common.links`) lead back here.
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource_path).hex[:6],
            "resourcePath": resource_path,
            "stage": self.stage,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": rest_claims(claims), "principalId": None}
        return {
            "resource": resource_path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def response(self, result: Any, request_id: str, request_headers: Headers | None = None) -> Response:
        """Map a proxy response; anything malformed is a 502, as API Gateway answers it."""
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error("malformed Lambda proxy response: %r", result)
            return self.answers("DEFAULT_5XX", request_id, request_headers)
        headers = Headers()
        for name, value in (result.get("headers") or {}).items():
            headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.remove(name)
            for value in values:
                headers.add(name, str(value))
        headers.setdefault("x-amzn-RequestId", request_id)
        headers.setdefault("Content-Type", "application/json")
        raw_body = result.get("body") or ""
        data = base64.b64decode(raw_body) if result.get("isBase64Encoded") else str(raw_body).encode()
        return Response(data, status=result["statusCode"], headers=headers)


class GatewayServer:
    def __init__(self, app: Gateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self._server = make_server(host, port, app, threaded=True)
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
