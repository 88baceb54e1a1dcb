"""Read `template.yaml`, the single source of truth of the local stack.

The local stack never lists a route, a function, a table or a variable a second time: it parses the
SAM template (CloudFormation short tags included), applies `Globals`, and resolves the intrinsic
functions it needs (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, ...) against *local* names
and ARNs. Physical names are deterministic (an explicit name property, else the logical id), except
for what moto chooses at creation time (Cognito pool and client ids), which `Resolver.bind` records.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "storekeeper-local"
NO_VALUE = object()

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "ImportValue": "Fn::ImportValue",
    "GetAZs": "Fn::GetAZs",
    "Cidr": "Fn::Cidr",
    "ToJsonString": "Fn::ToJsonString",
}


class TemplateError(Exception):
    """The template asks for something the local stack cannot resolve or run. Always fatal: a local
    stack that silently differs from the template is worse than none."""


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short tags (`!Ref X`) into their long form (`{"Ref": "X"}`)."""


def _construct(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    long_name = _SHORT_TAGS[tag]

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


for _tag in _SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader


def _merge(base: Any, override: Any) -> Any:
    """SAM's Globals merge: maps merge key by key, lists concatenate, scalars are overridden."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


# --------------------------------------------------------------------------- physical names


def _name_or_id(logical_id: str, props: Mapping[str, Any], key: str) -> Any:
    return props.get(key, logical_id)


@dataclass
class Physical:
    """What `Ref` and `Fn::GetAtt` give for one resource, locally."""

    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


def arn(service: str, resource: str, *, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


class Resolver:
    """Resolves intrinsic functions against parameters and local physical ids.

    Names are resolved lazily (a table's `TableName` may itself be a `!Sub`), and a resource whose id
    moto picks (Cognito) raises a clear error until `bind` has recorded it."""

    def __init__(self, template: Template, parameters: Mapping[str, str]) -> None:
        self.template = template
        self.parameters = dict(parameters)
        self._bound: dict[str, Physical] = {}

    # -- pseudo parameters and parameters
    def _pseudo(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": arn("cloudformation", f"stack/{STACK_NAME}/local"),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in pseudo:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return pseudo[name]

    def bind(self, logical_id: str, physical: Physical) -> None:
        self._bound[logical_id] = physical

    def physical(self, logical_id: str) -> Physical:
        if logical_id in self._bound:
            return self._bound[logical_id]
        resource = self.template.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"reference to unknown resource or parameter {logical_id!r}")
        physical = self._derive(logical_id, resource["Type"], resource.get("Properties") or {})
        self._bound[logical_id] = physical
        return physical

    def _derive(self, logical_id: str, rtype: str, props: Mapping[str, Any]) -> Physical:
        def name(key: str) -> str:
            return str(self.resolve(_name_or_id(logical_id, props, key)))

        if rtype == "AWS::DynamoDB::Table":
            table = name("TableName")
            table_arn = arn("dynamodb", f"table/{table}")
            return Physical(table, {"Arn": table_arn, "StreamArn": f"{table_arn}/stream/local"})
        if rtype in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            function = name("FunctionName")
            return Physical(function, {"Arn": arn("lambda", f"function:{function}")})
        if rtype in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            machine = name("Name") if "Name" in props else name("StateMachineName")
            machine_arn = arn("states", f"stateMachine:{machine}")
            return Physical(machine_arn, {"Arn": machine_arn, "Name": machine})
        if rtype == "AWS::Events::EventBus":
            bus = name("Name")
            return Physical(bus, {"Arn": arn("events", f"event-bus/{bus}"), "Name": bus})
        if rtype == "AWS::Events::Rule":
            rule = name("Name")
            return Physical(rule, {"Arn": arn("events", f"rule/{rule}")})
        if rtype == "AWS::S3::Bucket":
            bucket = name("BucketName").lower()
            return Physical(
                bucket,
                {
                    "Arn": f"arn:aws:s3:::{bucket}",
                    "DomainName": f"{bucket}.s3.amazonaws.com",
                    "RegionalDomainName": f"{bucket}.s3.{REGION}.amazonaws.com",
                },
            )
        if rtype == "AWS::SQS::Queue":
            queue = name("QueueName")
            return Physical(
                f"http://sqs.{REGION}.localhost/{ACCOUNT_ID}/{queue}",
                {"Arn": arn("sqs", queue), "QueueName": queue},
            )
        if rtype == "AWS::SNS::Topic":
            topic_arn = arn("sns", name("TopicName"))
            return Physical(topic_arn, {"TopicArn": topic_arn, "TopicName": name("TopicName")})
        if rtype == "AWS::SSM::Parameter":
            return Physical(name("Name"), {"Type": props.get("Type", "String")})
        if rtype == "AWS::Logs::LogGroup":
            group = name("LogGroupName")
            return Physical(group, {"Arn": arn("logs", f"log-group:{group}:*")})
        if rtype == "AWS::IAM::Role":
            role = name("RoleName")
            return Physical(role, {"Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "RoleId": role})
        if rtype == "AWS::Serverless::Api":
            api_id = logical_id.lower()
            return Physical(api_id, {"RootResourceId": "root"})
        if rtype in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            layer = name("LayerName")
            return Physical(arn("lambda", f"layer:{layer}:1"))
        if rtype.startswith("AWS::Cognito::"):
            raise TemplateError(f"{logical_id} ({rtype}) is resolved only after the local stack created it")
        # Anything else: the logical id is the best local stand-in, and it is at least stable.
        return Physical(logical_id, {"Arn": arn("unknown", logical_id)})

    # -- intrinsic functions
    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        return self.physical(name).ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self.physical(logical_id)
        if attribute not in physical.attrs:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not known to the local stack")
        return physical.attrs[attribute]

    def sub(self, value: Any) -> str:
        if isinstance(value, list):
            text, variables = value[0], {k: self.resolve(v) for k, v in value[1].items()}
        else:
            text, variables = value, {}

        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                logical_id, attribute = expr.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def condition(self, name: str) -> bool:
        conditions = self.template.raw.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in `value`; `AWS::NoValue` removes the key or list item."""
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(parts[0], parts[1])
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::FindInMap":
                mappings = self.template.raw.get("Mappings") or {}
                name, top, second = (self.resolve(a) for a in arg)
                return mappings[name][top][second]
            if key == "Fn::GetAZs":
                return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local stack")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


# --------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # /products/{productId}
    function: str  # logical id
    authorizer: str | None  # None = public


@dataclass(frozen=True)
class FunctionEvent:
    """An event source of a function or state machine: an EventBridge rule or a schedule."""

    kind: str  # "rule" | "schedule"
    name: str
    target: str  # logical id of the function or state machine
    properties: dict[str, Any]


def kebab(name: str) -> str:
    """`SweepHolds` -> `sweep-holds`: how `python -m local trigger` names a schedule (its event id)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


class Template:
    """A parsed SAM template with Globals applied. Properties stay unresolved until asked for,
    so the resolver can run after the resources it needs exist."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.root = self.path.parent
        self.raw: dict[str, Any] = load_yaml(self.path) or {}
        self.resources: dict[str, dict[str, Any]] = copy.deepcopy(self.raw.get("Resources") or {})
        self._apply_globals()

    def _apply_globals(self) -> None:
        globals_ = self.raw.get("Globals") or {}
        section_of = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::StateMachine": "StateMachine",
            "AWS::Serverless::SimpleTable": "SimpleTable",
        }
        for resource in self.resources.values():
            section = section_of.get(resource.get("Type", ""))
            if section and section in globals_:
                resource["Properties"] = _merge(globals_[section], resource.get("Properties") or {})

    def parameter_defaults(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, spec in (self.raw.get("Parameters") or {}).items():
            if "Default" in spec:
                values[name] = str(spec["Default"])
        values.update(overrides or {})
        missing = [n for n in (self.raw.get("Parameters") or {}) if n not in values]
        if missing:
            raise TemplateError(f"parameters without a default need a value: {', '.join(missing)}")
        return values

    def of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties") or {}

    def functions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.of_type("AWS::Serverless::Function")

    def _api_default_authorizer(self, api_ref: Any) -> tuple[str | None, bool]:
        """(default authorizer, whether it also guards CORS preflight) of the API a route belongs to."""
        auth: dict[str, Any] = {}
        if isinstance(api_ref, dict) and "Ref" in api_ref:
            api = self.resources.get(api_ref["Ref"], {})
            auth = (api.get("Properties") or {}).get("Auth") or {}
        else:
            auth = ((self.raw.get("Globals") or {}).get("Api") or {}).get("Auth") or {}
        return auth.get("DefaultAuthorizer"), bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True))

    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for logical_id, props in self.functions():
            for event in (props.get("Events") or {}).values():
                if event.get("Type") != "Api":
                    continue
                ep = event.get("Properties") or {}
                method = str(ep["Method"]).upper()
                default, on_preflight = self._api_default_authorizer(ep.get("RestApiId"))
                authorizer = (ep.get("Auth") or {}).get("Authorizer", default)
                if authorizer in (None, "NONE") or (method == "OPTIONS" and not on_preflight and "Auth" not in ep):
                    authorizer = None
                routes.append(Route(method if method != "ANY" else "ANY", ep["Path"], logical_id, authorizer))
        return routes

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        """`GatewayResponses` of the template's APIs (type → StatusCode/ResponseTemplates)."""
        found: dict[str, dict[str, Any]] = {}
        for _, props in self.of_type("AWS::Serverless::Api"):
            found.update(props.get("GatewayResponses") or {})
        return found

    def cors(self) -> Any:
        """The `Cors` of the template's API (unresolved; the local gateway has one API), or None."""
        for _, props in self.of_type("AWS::Serverless::Api"):
            if props.get("Cors"):
                return props["Cors"]
        return ((self.raw.get("Globals") or {}).get("Api") or {}).get("Cors")

    def cognito_authorizers(self) -> dict[str, Any]:
        """Authorizer name → its `UserPoolArn` (unresolved), across every API of the template."""
        found: dict[str, Any] = {}
        apis = [props for _, props in self.of_type("AWS::Serverless::Api")]
        apis.append((self.raw.get("Globals") or {}).get("Api") or {})
        for props in apis:
            for name, spec in ((props.get("Auth") or {}).get("Authorizers") or {}).items():
                if "UserPoolArn" not in spec:
                    raise TemplateError(
                        f"authorizer {name} is not a Cognito authorizer; the local gateway runs only those"
                    )
                found[name] = spec["UserPoolArn"]
        return found

    def events(self, resolve: Callable[[Any], Any]) -> list[FunctionEvent]:
        """EventBridge rules and schedules of functions and state machines, names resolved with `resolve`."""
        found: list[FunctionEvent] = []
        sources = self.of_type("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for logical_id, props in sources:
            for event_id, event in (props.get("Events") or {}).items():
                etype, ep = event.get("Type"), event.get("Properties") or {}
                if etype in ("EventBridgeRule", "CloudWatchEvent"):
                    name = resolve(ep.get("RuleName") or f"{logical_id}{event_id}")
                    found.append(FunctionEvent("rule", str(name), logical_id, ep))
                elif etype in ("Schedule", "ScheduleV2"):
                    found.append(FunctionEvent("schedule", kebab(event_id), logical_id, ep))
        return found

    def layer_dirs(self) -> list[Path]:
        return [self.root / str(props["ContentUri"]) for _, props in self.of_type("AWS::Serverless::LayerVersion")]
