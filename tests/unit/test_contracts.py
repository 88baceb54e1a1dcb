"""The seams between domains, checked against what `template.yaml` wires together.

Every event a rule delivers, every task the order workflow calls and every function one domain invokes
of another has its model in `common.contracts` (`EVENTS`, `CALLS`), and the code on both ends goes
through it: consumers read events only with `common.events.receive`, handlers parse their input with
the contract's model, callers parse the answer with it. Read through a model, a field the model lacks
is an attribute error (and a mypy error), never a silent `None` from `dict.get` — the way the payments
report's fee column read a field nobody published and showed 0 for every payment."""

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from common.contracts import CALLS, EVENTS
from common.events import Envelope, UnknownEvent, receive
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "statemachines" / "order.asl.json"
# Errors every Lambda task may fail with, which no contract lists.
RUNTIME_ERRORS = {"States.ALL", "States.Timeout", "States.TaskFailed"}


@cache
def template() -> Template:
    return Template(ROOT / "template.yaml")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code: Path
    module: str
    handler: str

    @property
    def domain(self) -> str:
        return self.code.name

    @property
    def path(self) -> Path:
        return self.code / Path(*self.module.split(".")).with_suffix(".py")

    def handler_node(self) -> ast.FunctionDef:
        for node in ast.walk(parse(self.path)):
            if isinstance(node, ast.FunctionDef) and node.name == self.handler:
                return node
        raise AssertionError(f"{self.logical_id}: no function {self.handler} in {self.path}")


@cache
def functions() -> dict[str, Function]:
    found = {}
    for logical_id, props in template().functions():
        module, handler = str(props["Handler"]).rsplit(".", 1)
        found[logical_id] = Function(logical_id, ROOT / str(props["CodeUri"]).rstrip("/"), module, handler)
    return found


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def domain_sources(domain: str) -> Iterator[Path]:
    yield from sorted((ROOT / "functions" / domain).rglob("*.py"))


def all_sources() -> Iterator[Path]:
    yield from sorted((ROOT / "functions").rglob("*.py"))


def queued_detail_types() -> dict[str, set[str]]:
    """Queue logical id → the detail types the rules (`AWS::Events::Rule`) that target it put there."""
    queued: dict[str, set[str]] = {}
    for _, props in template().of_type("AWS::Events::Rule"):
        pattern = props.get("EventPattern") or {}
        for target in props.get("Targets") or []:
            arn = target.get("Arn")
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                queued.setdefault(arn["Fn::GetAtt"][0], set()).update(pattern.get("detail-type") or [])
    return queued


def consumed_detail_types() -> dict[str, set[str]]:
    """Function logical id → the detail types its EventBridge rules deliver, directly or through the
    queue it polls (a rule → SQS → Lambda event source)."""
    consumed: dict[str, set[str]] = {}
    queued = queued_detail_types()
    for logical_id, props in template().functions():
        for event in (props.get("Events") or {}).values():
            properties = event.get("Properties") or {}
            if event.get("Type") == "SQS":
                queue = properties["Queue"]["Fn::GetAtt"][0]
                if queue in queued:
                    consumed.setdefault(logical_id, set()).update(queued[queue])
                continue
            if event.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                continue
            pattern = properties.get("Pattern") or {}
            consumed.setdefault(logical_id, set()).update(pattern.get("detail-type") or [])
    return consumed


def workflow_tasks() -> dict[str, set[str]]:
    """Function logical id → the errors the order workflow catches from it by name."""
    substitutions = next(props for _, props in template().of_type("AWS::Serverless::StateMachine"))[
        "DefinitionSubstitutions"
    ]
    by_placeholder = {name: value["Fn::GetAtt"][0] for name, value in substitutions.items() if "Fn::GetAtt" in value}
    tasks: dict[str, set[str]] = {}
    for state in json.loads(WORKFLOW.read_text())["States"].values():
        if state.get("Type") != "Task":
            continue
        placeholder = str((state.get("Arguments") or state.get("Parameters") or {}).get("FunctionName", ""))
        logical_id = by_placeholder[placeholder.removeprefix("${").removesuffix("}")]
        caught = {error for catch in state.get("Catch", []) for error in catch["ErrorEquals"]}
        tasks.setdefault(logical_id, set()).update(caught - RUNTIME_ERRORS)
    return tasks


def invoked_functions() -> dict[str, set[str]]:
    """Function logical id → the functions that invoke it synchronously (`*_FUNCTION: !Ref X`)."""
    callers: dict[str, set[str]] = {}
    for logical_id, props in template().functions():
        variables = ((props.get("Environment") or {}).get("Variables")) or {}
        for name, value in variables.items():
            if name.endswith("_FUNCTION") and isinstance(value, dict) and "Ref" in value:
                callers.setdefault(value["Ref"], set()).add(logical_id)
    return callers


def cross_domain(callee: str, callers: set[str]) -> bool:
    return any(functions()[caller].domain != functions()[callee].domain for caller in callers)


def orders_workflow_domain() -> str:
    """The workflow is orders' own: its tasks in other domains are the seams."""
    return "orders"


def validated_models(node: ast.AST) -> set[str]:
    """Names `X` of every `X.model_validate(...)` under `node`."""
    return {
        call.func.value.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "model_validate"
        and isinstance(call.func.value, ast.Name)
    }


# What reads an event through its contract: `receive` itself, or `read_batch` (an SQS batch of bus
# events, each body read with `receive`: test_read_batch_reads_each_body_through_receive holds it to that).
EVENT_READERS = ("receive", "read_batch")


def calls_receive(node: ast.AST, readers: tuple[str, ...] = EVENT_READERS) -> bool:
    return any(
        isinstance(call, ast.Call)
        and (
            (isinstance(call.func, ast.Name) and call.func.id in readers)
            or (isinstance(call.func, ast.Attribute) and call.func.attr in readers)
        )
        for call in ast.walk(node)
    )


def raw_event_reads(tree: ast.AST) -> list[str]:
    """Reads of an event's payload that bypass its contract: `x["detail"]`, `x.get("detail")`, or the
    envelope parsed by hand (`Envelope.model_validate`, whose `data` is a plain dict)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "detail":
            found.append(f'line {node.lineno}: ["detail"]')
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "detail"
        ):
            found.append(f'line {node.lineno}: .get("detail")')
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "model_validate"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "Envelope"
        ):
            found.append(f"line {node.lineno}: Envelope.model_validate")
    return found


# ---------------------------------------------------------------- events


def test_every_event_a_rule_delivers_has_a_contract_model() -> None:
    consumed = consumed_detail_types()
    assert consumed, "no EventBridge rule found in template.yaml"
    missing = {f"{fn}: {dt}" for fn, types in consumed.items() for dt in types if dt not in EVENTS}
    assert not missing, f"events delivered without a model in common.contracts.EVENTS: {sorted(missing)}"


@pytest.mark.parametrize("logical_id", sorted(consumed_detail_types()))
def test_every_consumer_reads_its_events_through_receive(logical_id: str) -> None:
    function = functions()[logical_id]
    function.handler_node()
    assert calls_receive(parse(function.path)), (
        f"{logical_id} ({function.module}.{function.handler}) must read its events with common.events.receive"
    )


def test_read_batch_reads_each_body_through_receive() -> None:
    source = parse(ROOT / "layers" / "common" / "common" / "batches.py")
    [read_batch] = [n for n in ast.walk(source) if isinstance(n, ast.FunctionDef) and n.name == "read_batch"]
    assert calls_receive(read_batch, readers=("receive",))


def test_no_code_reads_an_event_payload_by_hand() -> None:
    offenders = {f"{path.relative_to(ROOT)} {read}" for path in all_sources() for read in raw_event_reads(parse(path))}
    assert not offenders, f"event payloads read without their contract model: {sorted(offenders)}"


def test_every_published_event_names_a_registered_detail_type() -> None:
    """`new_event(X.DETAIL_TYPE, ...)` or a literal detail type: either way one `EVENTS` knows."""
    unknown = set()
    for path in all_sources():
        for call in ast.walk(parse(path)):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "new_event"):
                continue
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Attribute) and first.attr == "DETAIL_TYPE" and isinstance(first.value, ast.Name):
                name = first.value.id
                if not any(model.__name__ == name for model in EVENTS.values()):
                    unknown.add(f"{path.relative_to(ROOT)}:{call.lineno} {name}")
            elif isinstance(first, ast.Constant) and first.value not in EVENTS:
                unknown.add(f"{path.relative_to(ROOT)}:{call.lineno} {first.value!r}")
    assert not unknown, f"events published without a registered contract: {sorted(unknown)}"


@pytest.mark.parametrize("detail_type", sorted(EVENTS))
def test_receive_parses_each_detail_type_into_its_model(detail_type: str) -> None:
    model = EVENTS[detail_type]
    example = _example(model)
    event = {
        "detail-type": detail_type,
        "detail": Envelope(event_id=f"{detail_type}#1", occurred_at="2026-12-01T10:00:00Z", data=example).model_dump(
            mode="json", by_alias=True
        ),
    }
    received = receive(event)
    assert received.detail_type == detail_type
    assert isinstance(received.payload_as(model), model)
    assert received.payload.model_dump(mode="json", by_alias=True) == model.model_validate(example).model_dump(
        mode="json", by_alias=True
    )


def test_receive_refuses_an_event_without_a_contract_and_a_payload_its_model_rejects() -> None:
    envelope = {"eventId": "x", "occurredAt": "2026-12-01T10:00:00Z", "data": {}}
    with pytest.raises(UnknownEvent):
        receive({"detail-type": "SomethingElse", "detail": envelope})
    with pytest.raises(ValueError, match="orderId"):
        receive({"detail-type": "PaymentSucceeded", "detail": envelope})


# ---------------------------------------------------------------- workflow tasks and synchronous invokes


def test_every_task_of_another_domain_has_a_contract_with_the_errors_the_workflow_catches() -> None:
    problems = []
    for logical_id, caught in workflow_tasks().items():
        if functions()[logical_id].domain == orders_workflow_domain():
            continue
        call = CALLS.get(logical_id)
        if call is None:
            problems.append(f"{logical_id}: no entry in common.contracts.CALLS")
        elif caught - set(call.errors):
            problems.append(f"{logical_id}: the workflow catches {sorted(caught - set(call.errors))} it does not list")
    assert not problems, problems


def test_every_function_another_domain_invokes_has_a_contract() -> None:
    missing = [
        callee
        for callee, callers in invoked_functions().items()
        if cross_domain(callee, callers) and callee not in CALLS
    ]
    assert not missing, f"functions invoked across domains without a model in common.contracts.CALLS: {missing}"


def _seams() -> list[str]:
    seams = {fn for fn in workflow_tasks() if functions()[fn].domain != orders_workflow_domain()}
    seams |= {callee for callee, callers in invoked_functions().items() if cross_domain(callee, callers)}
    return sorted(seams)


@pytest.mark.parametrize("logical_id", _seams())
def test_each_seam_handler_parses_its_input_with_the_contract_model(logical_id: str) -> None:
    function = functions()[logical_id]
    expected = CALLS[logical_id].input.__name__
    assert expected in validated_models(function.handler_node()), (
        f"{logical_id} ({function.module}.{function.handler}) must parse its input with {expected}.model_validate"
    )


@pytest.mark.parametrize("callee", sorted(c for c, callers in invoked_functions().items() if cross_domain(c, callers)))
def test_each_caller_parses_the_answer_with_the_contract_model(callee: str) -> None:
    expected = CALLS[callee].output.__name__
    for caller in sorted(invoked_functions()[callee]):
        domain = functions()[caller].domain
        if domain == functions()[callee].domain:
            continue
        validated = set().union(*(validated_models(parse(path)) for path in domain_sources(domain)))
        assert expected in validated, f"{domain} invokes {callee} but never parses its answer with {expected}"


# ---------------------------------------------------------------- the checker itself


def test_the_checker_flags_a_consumer_that_reads_a_field_by_hand() -> None:
    """What the rules above exist to catch: a consumer reading a field with `dict.get`, where a missing
    field is a silent None instead of an error."""
    consumer = ast.parse(
        "def handler(event, context):\n"
        "    envelope = Envelope.model_validate(event['detail'])\n"
        "    fee = envelope.data.get('fee')\n"
    )
    assert len(raw_event_reads(consumer)) == 2
    handler = consumer.body[0]
    assert not calls_receive(handler)


def test_a_field_the_model_lacks_is_an_error_when_read_through_the_model() -> None:
    received = receive(
        {
            "detail-type": "PaymentSucceeded",
            "detail": {
                "eventId": "PaymentSucceeded#o_1",
                "occurredAt": "2026-12-01T10:00:00Z",
                "data": _example(EVENTS["PaymentSucceeded"]),
            },
        }
    )
    with pytest.raises(AttributeError):
        received.payload.exchange_rate  # type: ignore[attr-defined]  # noqa: B018


# ---------------------------------------------------------------- examples built from the models


def _example(model: Any) -> dict[str, Any]:
    """A minimal valid payload for `model`, built from its JSON schema (required fields only)."""
    schema = model.model_json_schema(by_alias=True)
    example: dict[str, Any] = _value(schema, schema.get("$defs", {}))
    return example


def _value(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _value(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return _value(next(s for s in schema["anyOf"] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _value(sub, defs)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [_value(schema["items"], defs)] * max(1, schema.get("minItems", 0))
    if kind == "integer":
        return max(1, schema.get("minimum", 0), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(schema)
    raise AssertionError(f"no example for {schema}")


def _string(schema: dict[str, Any]) -> str:
    pattern = str(schema.get("pattern", ""))
    if "A-Z]{2}" in pattern:
        return "DE"
    if "A-Z]{3}" in pattern:
        return "EUR"
    if "A-Z0-9" in pattern.upper():
        return "ABC-1"
    return "x" * max(1, int(schema.get("minLength", 1)))
