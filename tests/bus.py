"""What a suite sees of the event bus: an SQS queue subscribed to every `storekeeper.*` event, drained by
`published()`. The one observer of the tests; the bus itself is the template's (created by the suite)."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BusObserver:
    """A queue behind a rule matching every storekeeper event on one bus."""

    sqs: Any
    queue_url: str

    @classmethod
    def on(cls, events: Any, sqs: Any, bus: str, *, name: str = "observed-events") -> "BusObserver":
        """Subscribe a new queue `name` to every `storekeeper.*` event on `bus` (clients are moto's)."""
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"observe-{name}"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "storekeeper."}]}))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        return cls(sqs, queue_url)

    def published(self) -> list[dict[str, Any]]:
        """Drain the queue: the EventBridge events published since the last drain, oldest first."""
        events: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = batch.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
