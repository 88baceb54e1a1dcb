import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from common.contracts import StockLow
from common.events import PublishFailed, new_event, publish


@pytest.fixture
def client(aws_env: None) -> Any:
    return boto3.client("events", region_name="eu-west-1")


def _low(i: int) -> StockLow:
    return StockLow(sku=f"sku-{i}", available=0, threshold=5, crossing=1)


def test_an_event_without_its_contract_model_is_refused() -> None:
    # An unknown detail type, or data that is not the detail type's contract model, never reaches the bus
    with pytest.raises(TypeError, match="registered"):
        new_event("ThingHappened", "ThingHappened#1", _low(1))
    with pytest.raises(TypeError, match="StockLow"):
        new_event("StockLow", "StockLow#x#1", {"sku": "x"})  # type: ignore[arg-type]


def test_events_go_out_in_batches_of_ten_with_the_envelope(client: Any) -> None:
    # Given 12 events
    events = [new_event("StockLow", f"StockLow#sku-{i}#1", _low(i)) for i in range(12)]
    sent: list[list[dict[str, Any]]] = []
    client.meta.events.register(
        "provide-client-params.events.PutEvents", lambda params, **_: sent.append(params["Entries"])
    )

    with Stubber(client) as stub:
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{}] * 10}, {"Entries": ANY})
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{}] * 2}, {"Entries": ANY})

        # When they are published
        publish(events, domain="catalog", bus_name="bus", client=client)

    # Then two calls carried 10 and 2 entries, sourced from the domain, with a stable eventId
    assert [len(batch) for batch in sent] == [10, 2]
    first = sent[0][0]
    assert (first["Source"], first["DetailType"], first["EventBusName"]) == (
        "storekeeper.catalog",
        "StockLow",
        "bus",
    )
    detail = json.loads(first["Detail"])
    assert detail["eventId"] == "StockLow#sku-0#1"
    assert detail["data"] == {"sku": "sku-0", "available": 0, "threshold": 5, "crossing": 1}
    assert "occurredAt" in detail


def test_a_refused_entry_raises_so_the_caller_retries(client: Any) -> None:
    # Given EventBridge refuses one entry of the batch
    events = [new_event("StockLow", f"StockLow#sku-{i}#1", _low(i)) for i in range(2)]
    with Stubber(client) as stub:
        stub.add_response(
            "put_events", {"FailedEntryCount": 1, "Entries": [{}, {"ErrorCode": "InternalFailure"}]}, {"Entries": ANY}
        )

        # When they are published
        # Then the failure is raised, not swallowed
        with pytest.raises(PublishFailed, match="1 of 2"):
            publish(events, domain="catalog", bus_name="bus", client=client)
