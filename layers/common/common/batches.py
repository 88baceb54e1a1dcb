"""Bus events consumed from an SQS queue in batches (EventBridge rule → queue → Lambda with
`ReportBatchItemFailures`), for consumers that merge a batch into few writes on hot items (a day's report
total, a best seller's counter): one write per item per transaction instead of one per event.

- `read_batch`: each record's body is the EventBridge event the rule sent, read through its contract as
  `common.events.receive` reads a bus event. A body that is no event, or that no contract reads, is
  unreadable: the handler logs why (never the body) and answers it as failed, so after its receives the
  dead-letter queue keeps it and its alarm tells staff that a publisher and its contract disagree (as the
  bus's own dead-letter queue did before the queue). It never fails the batch's other records.
- `pack`: a batch's events into chunks of at most 100 transaction actions (DynamoDB's limit): one per
  distinct item the chunk touches plus one marker per event, the marker being what makes each event
  count once.
- `settle`: one chunk written until it holds; events whose markers exist are dropped (applied before),
  a busy table is retried with jittered backoff, then the chunk's events are failures.
- `Batch.answer`: `{"batchItemFailures": [...]}`, the messages whose event was not applied and the
  unreadable ones, so the queue brings back only those (alone or in another batch: the markers make that
  safe).
"""

import json
import random
import time
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from common.dynamo import TransactionCancelled, is_throttled
from common.errors import ServiceUnavailable
from common.events import Received, receive

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_ACTIONS = 100
"""DynamoDB's limit of actions in one `TransactWriteItems`."""
BUSY_ATTEMPTS = 3
BACKOFF_SECONDS = 0.1


# ---------------------------------------------------------------- reading a batch


@dataclass(frozen=True)
class Dropped:
    """A record whose body no contract reads, and why (no body content: it may carry personal data). It is
    answered as failed, for the dead-letter queue."""

    message_id: str
    reason: str


@dataclass(frozen=True)
class Batch:
    """A batch as read: (message id, event) for each readable record, in the queue's order, and the
    unreadable records. Two messages may carry the same event (a publisher's retry): both answer for it."""

    events: list[tuple[str, Received]]
    dropped: list[Dropped]
    order: list[str] = field(default_factory=list)
    """Every record's message id in the queue's order (the events' then the dropped ones' if not given)."""

    @property
    def message_ids(self) -> list[str]:
        return self.order or [message_id for message_id, _ in self.events] + [d.message_id for d in self.dropped]

    @property
    def received(self) -> list[Received]:
        return [event for _, event in self.events]

    def answer(self, failed_event_ids: Collection[str]) -> dict[str, list[dict[str, str]]]:
        """The partial-batch response: every message whose event is among `failed_event_ids`, and every
        unreadable one, in the batch's order."""
        failed = set(failed_event_ids)
        answered = {message_id for message_id, event in self.events if event.event_id in failed}
        answered |= {dropped.message_id for dropped in self.dropped}
        return {
            "batchItemFailures": [
                {"itemIdentifier": message_id} for message_id in self.message_ids if message_id in answered
            ]
        }

    def respond(self, outcome: "Outcome", logger: "Logger", summary: str) -> dict[str, list[dict[str, str]]]:
        """Log what became of the batch — each unreadable record with its reason, then the counts under
        `summary` — and answer it (`answer`): the one ending every consumer of a queue shares."""
        for dropped in self.dropped:
            logger.error("event unreadable", extra={"messageId": dropped.message_id, "reason": dropped.reason})
        counts = {"applied": len(outcome.applied), "duplicates": len(outcome.seen), "failed": len(outcome.failed)}
        logger.info(summary, extra={"records": len(self.message_ids), **counts})
        return self.answer(outcome.failed)


class NotAnSqsEvent(ValueError):
    """The function was invoked with something else than an SQS event."""


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        found = error.errors(include_input=False, include_url=False)
        where = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in found[:5])
        return f"refused by its contract ({error.error_count()} errors): {where}"
    return f"{type(error).__name__}: {error}"[:300]


def read_batch(event: Mapping[str, Any]) -> Batch:
    """Read an SQS event's records as bus events (see the module's docstring for what is dropped). An
    invocation that is no SQS event (a bus event sent straight to the function) is refused whole: read as
    an empty batch it would vanish without a trace."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise NotAnSqsEvent("the function reads SQS batches; this event has no Records")
    events: list[tuple[str, Received]] = []
    dropped: list[Dropped] = []
    order: list[str] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        order.append(message_id)
        try:
            body = json.loads(record["body"])
            if not isinstance(body, dict):
                raise TypeError(f"the body is a JSON {type(body).__name__}, not an EventBridge event")
            events.append((message_id, receive(body)))
        except (ValueError, KeyError, TypeError) as error:  # JSON, contract (ValidationError), unknown type
            dropped.append(Dropped(message_id, _reason(error)))
    return Batch(events, dropped, order)


# ---------------------------------------------------------------- packing a batch into transactions


def pack[E](
    events: Iterable[tuple[E, Collection[Hashable]]], limit: int = MAX_ACTIONS
) -> tuple[list[list[E]], list[E]]:
    """Chunks of events, each at most `limit` actions: the distinct items its events touch plus one
    marker per event; first fit in the batch's order, so events on the same hot items share a chunk.
    An event that needs more than `limit` actions alone comes back apart, for its own path."""
    chunks: list[tuple[list[E], set[Hashable]]] = []
    alone: list[E] = []
    for event, items in events:
        if len(set(items)) + 1 > limit:
            alone.append(event)
            continue
        for members, touched in chunks:
            if len(touched | set(items)) + len(members) + 1 <= limit:
                members.append(event)
                touched.update(items)
                break
        else:
            chunks.append(([event], set(items)))
    return [members for members, _ in chunks], alone


# ---------------------------------------------------------------- writing a chunk


class SeenBefore(Exception):
    """A merged write was cancelled because some of its events were applied before: their markers exist."""

    def __init__(self, event_ids: Collection[str]) -> None:
        super().__init__(f"{len(event_ids)} events applied before")
        self.event_ids = frozenset(event_ids)


def write_chunk(
    transact: Callable[[list["TransactWriteItemTypeDef"]], None],
    event_ids: Sequence[str],
    markers: Sequence["TransactWriteItemTypeDef"],
    actions: Sequence["TransactWriteItemTypeDef"],
    *,
    busy: Callable[[], ServiceUnavailable],
) -> None:
    """One merged chunk in one transaction: the events' markers (`markers[i]` is `event_ids[i]`'s, each
    put only if new) then the merged `actions`, all or nothing. Raises `SeenBefore` naming the events whose
    markers exist; the `TransactionCancelled` itself when one of `actions`' own conditions failed (the
    caller's to read); `busy()` when DynamoDB stayed busy (conflicts after `transact`'s retries,
    throttling) — what `settle` retries."""
    try:
        transact([*markers, *actions])
    except TransactionCancelled as cancelled:
        failed = cancelled.failed()
        seen = [event_ids[i] for i in failed if i < len(markers)]
        if seen:
            raise SeenBefore(seen) from cancelled
        if failed:
            raise
        raise busy() from cancelled
    except ClientError as error:
        if is_throttled(error):
            raise busy() from error
        raise


@dataclass
class Outcome:
    """What became of a batch's events: applied now, applied before (duplicates), or failed (to come back)."""

    applied: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def add(self, other: "Outcome") -> None:
        self.applied += other.applied
        self.seen += other.seen
        self.failed += other.failed


def settle(
    event_ids: Sequence[str],
    write: Callable[[list[str]], None],
    *,
    attempts: int = BUSY_ATTEMPTS,
    pause: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Write one chunk: `write(ids)` applies those events' merged change with their markers, all or
    nothing, and raises `SeenBefore` (nothing written) or `ServiceUnavailable` (busy: conflicts left after
    `common.dynamo.transact_write`'s retries, throttling). Events seen before are dropped and the rest
    written at once; a busy chunk is tried again after a jittered pause, `attempts` times in all, and then
    its events are failures, for the queue to bring back."""
    pending = list(event_ids)
    outcome = Outcome()
    for attempt in range(attempts):
        if attempt:
            pause(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
        while pending:
            try:
                write(pending)
            except SeenBefore as before:
                seen = [event_id for event_id in pending if event_id in before.event_ids]
                if not seen:
                    raise
                outcome.seen += seen
                pending = [event_id for event_id in pending if event_id not in before.event_ids]
                continue
            except ServiceUnavailable:
                break
            outcome.applied += pending
            return outcome
        else:
            return outcome
    outcome.failed += pending
    return outcome
