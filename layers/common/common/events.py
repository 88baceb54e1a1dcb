"""Domain events on the EventBridge bus. Every event carries an envelope with a deterministic
`eventId`, so consumers can apply each event exactly once however often it is delivered."""

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from common.dynamo import AWS_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE_PREFIX = "storekeeper."


class Envelope(BaseModel):
    """The `detail` of every Storekeeper event."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventId", description="Stable per fact: the same fact always has the same id")
    occurred_at: datetime = Field(alias="occurredAt")
    data: dict[str, Any]


class DomainEvent(BaseModel):
    detail_type: str
    envelope: Envelope


def new_event(detail_type: str, event_id: str, data: BaseModel | dict[str, Any]) -> DomainEvent:
    payload = data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else data
    envelope = Envelope(event_id=event_id, occurred_at=datetime.now(UTC), data=payload)
    return DomainEvent(detail_type=detail_type, envelope=envelope)


@cache
def events_client() -> "EventBridgeClient":
    return boto3.client("events", config=AWS_CONFIG)


class PublishFailed(Exception):
    pass


def publish(
    events: list[DomainEvent],
    *,
    domain: str,
    bus_name: str,
    client: "EventBridgeClient | None" = None,
) -> None:
    """Put events on the bus; raise if any entry was refused, so the caller's retry re-sends them
    (consumers dedupe by eventId)."""
    client = client or events_client()
    for start in range(0, len(events), 10):
        batch = events[start : start + 10]
        entries: Any = [
            {
                "Source": SOURCE_PREFIX + domain,
                "DetailType": event.detail_type,
                "Detail": event.envelope.model_dump_json(by_alias=True),
                "EventBusName": bus_name,
            }
            for event in batch
        ]
        response = client.put_events(Entries=entries)
        if response.get("FailedEntryCount"):
            raise PublishFailed(f"{response['FailedEntryCount']} of {len(batch)} events were refused")
