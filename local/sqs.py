"""Lambda's SQS event sources for the local stack, which moto does not run.

One poller per `Type: SQS` event of the template, a thread of the stack's process, does what Lambda's
pollers do: receive up to 10 messages per call (long-polling), gather a batch until `BatchSize` or
`MaximumBatchingWindowInSeconds`, invoke the function synchronously through its workers with AWS's
SQS event, and delete what succeeded. With `ReportBatchItemFailures` that is every message but the
`batchItemFailures` the function names (an answer naming a message not in the batch fails the whole
batch, as on AWS); without it, all or nothing. A failed message stays in the queue, reappears after the
queue's visibility timeout, and moto moves it to the dead-letter queue once its receive count reaches the
redrive policy's `maxReceiveCount` (as SQS does, on the receive after that). At most
`ScalingConfig.MaximumConcurrency` invokes run at once per source.

moto's queues are not thread-safe: a delete rebuilds the message list while EventBridge's `PutEvents`
appends to it, so a message sent in between could be lost. `install_queue_locks` puts sends, receives and
deletes of one queue under the queue's own lock (the condition moto's long poll already waits on).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from local.aws import client
from local.lambdas import Dispatcher, InvokeError
from local.template import REGION, Resolver, Template

log = logging.getLogger("local.sqs")

RECEIVE_MAX = 10  # SQS hands out at most 10 messages per ReceiveMessage
LONG_POLL_SECONDS = 1  # short, so a stopping stack is not kept waiting
IDLE_POLL_SECONDS = 0.05  # between empty short polls while a batching window is still open
DEFAULT_BATCH_SIZE = 10  # Lambda's defaults for an SQS source
UNBOUNDED = 1000  # no ScalingConfig: the function's worker pool is the only bound


@dataclass(frozen=True)
class SqsSource:
    """One `Type: SQS` event of a function, resolved against the local stack's names."""

    function: str  # the function's local name
    event: str  # the event's id in the template
    queue_arn: str
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window: float = 0.0
    report_failures: bool = False
    max_concurrency: int = UNBOUNDED

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


def sqs_sources(template: Template, resolver: Resolver) -> list[SqsSource]:
    """Every enabled `Type: SQS` event of the template's functions."""
    found = []
    for logical_id, props in template.functions():
        for event_id, event in (props.get("Events") or {}).items():
            if event.get("Type") != "SQS":
                continue
            ep = resolver.resolve(event.get("Properties") or {})
            if str(ep.get("Enabled", True)).lower() == "false":
                continue
            found.append(
                SqsSource(
                    function=str(resolver.ref(logical_id)),
                    event=event_id,
                    queue_arn=str(ep["Queue"]),
                    batch_size=int(ep.get("BatchSize", DEFAULT_BATCH_SIZE)),
                    batching_window=float(ep.get("MaximumBatchingWindowInSeconds", 0)),
                    report_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                    max_concurrency=int((ep.get("ScalingConfig") or {}).get("MaximumConcurrency", UNBOUNDED)),
                )
            )
    return found


def install_queue_locks() -> None:
    """Serialise what changes one moto queue's message list: send, receive (and its move to the
    dead-letter queue), delete. Idempotent."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "_storekeeper_locked", False):
        return
    add, delete, receive = Queue.add_message, Queue.delete_message, SQSBackend.receive_message

    def locked_add(self: Any, message: Any) -> None:
        with self._messages_lock:
            add(self, message)

    def locked_delete(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            delete(self, receipt_handle)

    def locked_receive(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        # The long poll waits on this same condition, which releases the lock while it waits.
        with self.get_queue(queue_name)._messages_lock:
            return receive(self, queue_name, *args, **kwargs)

    Queue.add_message = locked_add
    Queue.delete_message = locked_delete
    SQSBackend.receive_message = locked_receive
    Queue._storekeeper_locked = True  # type: ignore[attr-defined]


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a `ReceiveMessage` message."""
    attributes = {key: str(value) for key, value in (message.get("Attributes") or {}).items()}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda spells it (camel case, binary as base64)."""
    shaped: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return shaped


def failed_messages(result: Any, message_ids: Iterable[str]) -> set[str]:
    """The messages a `ReportBatchItemFailures` answer leaves in the queue. AWS: no answer, no list or an
    empty one is complete success; an answer it cannot read, or an item identifier that is empty or not a
    message of the batch, fails the whole batch."""
    ids = set(message_ids)
    if result is None:
        return set()
    if not isinstance(result, dict):
        return ids
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return ids
    named = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return ids
        named.add(identifier)
    return named


class SqsPoller:
    """The event source mapping of one `SqsSource`: a receiving thread, and a thread per batch in flight."""

    def __init__(self, source: SqsSource, dispatcher: Dispatcher, endpoint: str) -> None:
        self.source = source
        self.dispatcher = dispatcher
        self.sqs = client("sqs", endpoint)
        self.queue_url = str(self.sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"])
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(source.max_concurrency)
        self._in_flight: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sqs-{source.function}-{source.event}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stopping(self) -> None:
        """Receive no more (`stop` waits for what is in flight)."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop receiving; let the batches in flight finish (their invokes end by their timeout)."""
        self._stop.set()
        self._thread.join(timeout=LONG_POLL_SECONDS + 5)
        with self._lock:
            in_flight = list(self._in_flight)
        for thread in in_flight:
            thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=LONG_POLL_SECONDS):
                continue
            try:
                batch = self._gather()
            except Exception:
                log.exception("%s: receiving from %s failed", self.source.function, self.source.queue_name)
                batch = []
                self._stop.wait(LONG_POLL_SECONDS)
            if not batch:
                self._slots.release()
                continue
            thread = threading.Thread(target=self._deliver, args=(batch,), name=self._thread.name + "-batch")
            with self._lock:
                self._in_flight.add(thread)
            thread.start()

    def _gather(self) -> list[dict[str, Any]]:
        """Messages until the batch is full or the batching window, opened by the first message, ends."""
        batch: list[dict[str, Any]] = []
        closes_at = 0.0
        while not self._stop.is_set() and len(batch) < self.source.batch_size:
            remaining = closes_at - time.monotonic()
            if batch and remaining <= 0:
                break
            wait = LONG_POLL_SECONDS if not batch or remaining >= LONG_POLL_SECONDS else 0
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(RECEIVE_MAX, self.source.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if received and not batch:
                closes_at = time.monotonic() + self.source.batching_window
            batch.extend(received)
            if not received and batch and wait == 0:
                self._stop.wait(min(IDLE_POLL_SECONDS, max(remaining, 0)))
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        try:
            event = {"Records": [sqs_record(message, self.source.queue_arn) for message in batch]}
            ids = [message["MessageId"] for message in batch]
            try:
                result = self.dispatcher.call(self.source.function, event)
            except InvokeError as error:
                log.error(
                    "%s failed on a batch of %d from %s (they return after the visibility timeout): %s",
                    self.source.function,
                    len(batch),
                    self.source.queue_name,
                    error,
                )
                return
            failed = failed_messages(result, ids) if self.source.report_failures else set()
            if failed:
                log.warning(
                    "%s: %d of %d messages from %s failed and return after the visibility timeout",
                    self.source.function,
                    len(failed),
                    len(batch),
                    self.source.queue_name,
                )
            self._delete([m for m in batch if m["MessageId"] not in failed])
        except Exception:
            log.exception("%s: a batch from %s was not handled", self.source.function, self.source.queue_name)
        finally:
            self._slots.release()
            with self._lock:
                self._in_flight.discard(threading.current_thread())

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), RECEIVE_MAX):
            chunk = messages[start : start + RECEIVE_MAX]
            answer = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in answer.get("Failed", []):
                log.error("%s: could not delete a message from %s: %s", self.source.function, self.queue_url, failure)


class SqsPollers:
    """Every SQS event source of the template, started and stopped with the stack."""

    def __init__(self, sources: Iterable[SqsSource], dispatcher: Dispatcher, endpoint: str) -> None:
        install_queue_locks()
        self.pollers = [SqsPoller(source, dispatcher, endpoint) for source in sources]

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stopping()
        for poller in self.pollers:
            poller.stop()
