"""Deliver EventBridge events to Lambda and Step Functions targets, which moto 5.2.5 cannot do.

moto matches rules itself but raises `NotImplementedError` for a Lambda target. The stack wraps the
rule's target dispatch: matching stays moto's (its own pattern matcher), Lambda targets are invoked
asynchronously through their workers (as EventBridge does), state machine targets get a `StartExecution`, SQS
targets get the event as AWS sends it (moto's own SQS delivery drops the event's `account` and ignores
`Input` and `InputPath`), and every other target (logs, archives, buses) still goes through moto's code.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from local.aws import client
from local.lambdas import Dispatcher

log = logging.getLogger("local.eventbridge")


def _service(target: dict[str, Any]) -> str:
    return str(target["Arn"]).split(":", 3)[2]


def _iso(value: Any) -> str:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What the target receives: the event, or its `Input`, `InputPath` or `InputTransformer` view."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        from jsonpath_ng.ext.parser import parse

        matches = parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
    return event


def send_to_queue(target: dict[str, Any], event: dict[str, Any]) -> None:
    """Put what the target receives on its queue (the whole event as JSON unless the target says
    otherwise), straight into moto's SQS backend: this runs inside moto's own `PutEvents` request."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue = str(target["Arn"]).split(":", 5)
    payload = target_input(target, event)
    sqs_backends[account][region].send_message(
        queue_name=queue,
        message_body=payload if isinstance(payload, str) else json.dumps(payload),
        group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
    )


def install_rule_hook(dispatcher: Dispatcher, endpoint: str) -> None:
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def start_execution(arn: str, payload: Any) -> None:
        try:
            client("stepfunctions", endpoint).start_execution(
                stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(payload)
            )
        except Exception:
            log.exception("EVENT DELIVERY FAILED: StartExecution of %s", arn)

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return  # a schedule, not a pattern: it fires only through `python -m local trigger`
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        event = {k: v for k, v in original_event.items() if k != "ingestion-time"}
        event["time"] = _iso(event.get("time"))
        others = []
        for target in self.targets:
            service = _service(target)
            if service == "lambda":
                dispatcher.invoke_async(target["Arn"], target_input(target, event), source=f"rule {self.name}")
            elif service == "states":
                payload = target_input(target, event)
                threading.Thread(target=start_execution, args=(target["Arn"], payload), daemon=True).start()
            elif service == "sqs":
                try:
                    send_to_queue(target, event)
                except Exception:
                    log.exception("EVENT DELIVERY FAILED: rule %s to %s", self.name, target["Arn"])
            else:
                others.append(target)
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, original_event, transform_input)  # type: ignore[arg-type]

    Rule.send_to_targets = send_to_targets  # type: ignore[assignment]
