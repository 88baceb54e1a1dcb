"""`python -m local trigger NAME`: fire one of the template's schedules now, since moto never fires them.

The running stack recorded each schedule's target in its state file. The trigger calls the target
through the local AWS (a synchronous `lambda:Invoke`, or `StartExecution` for a state machine), so the
handler runs in its function's worker exactly as a scheduled invocation would, and its result or
error comes back here."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from local.aws import client
from local.template import ACCOUNT_ID, REGION


class UnknownSchedule(LookupError):
    pass


class TriggerFailed(RuntimeError):
    pass


def scheduled_event(name: str) -> dict[str, Any]:
    """The event an EventBridge schedule rule delivers to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}"],
        "detail": {},
    }


def trigger(state: dict[str, Any], name: str, extra: dict[str, Any] | None = None) -> Any:
    schedules: dict[str, dict[str, Any]] = state.get("schedules") or {}
    if name not in schedules:
        known = ", ".join(sorted(schedules)) or "(none yet)"
        raise UnknownSchedule(f"no schedule {name!r} in the template; known: {known}")
    schedule = schedules[name]
    payload = json.loads(schedule["input"]) if schedule.get("input") else scheduled_event(name)
    payload.update(extra or {})
    endpoint = state["awsEndpoint"]
    if ":states:" in schedule["arn"]:
        execution = client("stepfunctions", endpoint).start_execution(
            stateMachineArn=schedule["arn"], name=f"{name}-{uuid.uuid4().hex[:12]}", input=json.dumps(payload)
        )
        return {"executionArn": execution["executionArn"]}
    response = client("lambda", endpoint).invoke(FunctionName=schedule["arn"], Payload=json.dumps(payload).encode())
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise TriggerFailed(f"{name} failed: {body.get('errorType')}: {body.get('errorMessage')}")
    return body
