"""Domain events on the EventBridge bus. Every event carries an envelope with a deterministic
`eventId`, so consumers can apply each event exactly once however often it is delivered."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from common.contracts import EVENTS
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


def new_event(detail_type: str, event_id: str, data: BaseModel) -> DomainEvent:
    """An event whose data is the contract model `common.contracts.EVENTS` names for `detail_type`."""
    model = EVENTS.get(detail_type)
    if model is None or not isinstance(data, model):
        raise TypeError(f"{detail_type} events carry a {model.__name__ if model else 'registered'} model")
    payload = data.model_dump(mode="json", by_alias=True)
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


class UnknownEvent(ValueError):
    """An event whose detail type has no contract model: a rule delivers what no consumer can read."""


@dataclass(frozen=True)
class Received:
    """An event as a consumer reads it: its detail type, its envelope's id and time, and its data parsed
    into the contract model for the detail type (never read as a dict)."""

    detail_type: str
    event_id: str
    occurred_at: datetime
    payload: BaseModel

    def payload_as[M: BaseModel](self, model: type[M]) -> M:
        if not isinstance(self.payload, model):
            raise TypeError(f"{self.detail_type} carries {type(self.payload).__name__}, not {model.__name__}")
        return self.payload


def receive(event: Mapping[str, Any]) -> Received:
    """Parse an EventBridge event through its contract: the one way a consumer reads another domain's
    event (the contract test holds every consumer to it)."""
    detail_type = str(event.get("detail-type", ""))
    model = EVENTS.get(detail_type)
    if model is None:
        raise UnknownEvent(f"no contract for detail type {detail_type!r}")
    envelope = Envelope.model_validate(event["detail"])
    return Received(detail_type, envelope.event_id, envelope.occurred_at, model.model_validate(envelope.data))
