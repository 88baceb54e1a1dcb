"""`Idempotency-Key` on the routes that change something: a request's fingerprint, the fact that an
answer replays an earlier request (sent as `Idempotent-Replayed: true` by `common.http`), and the key
records of routes whose change has nothing of its own to keep the key on.

Checkout, refunds, payouts and stock adjustments keep the key with what they make (the order's marker,
a refund or payout id derived from the key, the ledger row), in the same write; they only call
`mark_replayed` when they answer an earlier request. Cancelling, shipping, creating a product and
running a report use `KeyRecords.once`: a record per key in the domain's own table, claimed with a
conditional put *before* the change, so two racing retries do it once. Either way the same key with
another request is `IdempotencyKeyReused` (409), and a retry answers what the first request made."""

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic_core import to_jsonable_python

from common.errors import Conflict, ErrorCode, ServiceUnavailable
from common.store import TableStore, iso

REPLAYED_HEADER = "Idempotent-Replayed"
LEASE = timedelta(seconds=60)
"""How long a claimed key waits for the request that claimed it (longer than any API function may run):
after it, that request is taken for dead and a retry does the change itself."""
_META = "META"
_RELEASED = datetime(1970, 1, 1, tzinfo=UTC)
_ATTEMPTS = 3

_replayed: ContextVar[bool] = ContextVar("idempotent_replayed", default=False)


class IdempotencyKeyReused(Conflict):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED.value

    def __init__(self, what: str = "request") -> None:
        super().__init__(f"this Idempotency-Key was used for a different {what}")


class IdempotencyKeyInUse(ServiceUnavailable):
    """The first request with this key is still being answered: retry shortly, with the same key."""

    code = ErrorCode.IDEMPOTENCY_KEY_IN_USE.value

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still under way; retry shortly with the same key")


def digest(request: Any) -> str:
    """A request's fingerprint (models by their wire names, keys sorted): the same key with another
    request is refused, with the same request answered. Put path parameters in too: the same body for
    another order is another request."""
    plain = to_jsonable_python(request, by_alias=True)
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def mark_replayed() -> None:
    """Note that this request is answered with what an earlier request with its key did."""
    _replayed.set(True)


def replayed() -> bool:
    return _replayed.get()


def forget_replay() -> None:
    """Start a request with no replay noted (a warm function serves many requests)."""
    _replayed.set(False)


class KeyRecords:
    """Key records of one kind of request (`scope`) in a domain's table: `IDEMPOTENCY#<scope>#<who>#<key>
    / META {requestHash, state STARTED|DONE, claim, claimedAt, result}`. `result` names what the first
    request made or changed (an id), so a replay reads it back as it stands now."""

    def __init__(self, store: TableStore, scope: str, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.scope = scope
        self.clock = clock or (lambda: datetime.now(UTC))

    def once[T](
        self,
        who: str,
        idempotency_key: str | None,
        request: Any,
        do: Callable[[], T],
        *,
        result_of: Callable[[T], str],
        replay: Callable[[str], T],
    ) -> T:
        """`do()` once per key of `who`: the first request with a key does it; a retry answers
        `replay(result)` (and is marked replayed); another request with the key is a 409. Without a key,
        just `do()`. If `do` fails, the claim is released, so a retry does it again."""
        if not idempotency_key:
            return do()
        pk = f"IDEMPOTENCY#{self.scope}#{who}#{idempotency_key}"
        request_hash = digest(request)
        claim = uuid.uuid4().hex
        earlier = self._claim(pk, request_hash, claim)
        if earlier is not None:
            mark_replayed()
            return replay(earlier)
        try:
            value = do()
        except BaseException:
            self._release(pk, claim)
            raise
        # The change is made: a failure to record it must not turn its answer into an error. A retry then
        # finds the claim STARTED, and after `LEASE` does the change again (each such change is a no-op
        # the second time: cancel, ship, create by SKU, run by kind and period).
        with contextlib.suppress(ClientError):
            self.store.update_if(
                pk,
                _META,
                "SET #state = :done, #result = :result",
                condition="claim = :claim",
                values={":done": "DONE", ":result": result_of(value), ":claim": claim},
                names={"#state": "state", "#result": "result"},
            )
        return value

    def _claim(self, pk: str, request_hash: str, claim: str) -> str | None:
        """None when the key is ours to act on; the earlier request's result when it was done."""
        for _ in range(_ATTEMPTS):
            now = self.clock()
            mine = {"PK": pk, "SK": _META, "requestHash": request_hash, "state": "STARTED", "claim": claim}
            if self.store.put_if_absent({**mine, "claimedAt": iso(now)}):
                return None
            found = self.store.get(pk, _META)
            if found is None:
                continue  # dropped by a request that failed meanwhile: claim it again
            if found.get("requestHash") != request_hash:
                raise IdempotencyKeyReused
            if found.get("state") == "DONE":
                return str(found["result"])
            if now - datetime.fromisoformat(str(found["claimedAt"])) < LEASE:
                raise IdempotencyKeyInUse
            taken = self.store.update_if(
                pk,
                _META,
                "SET claim = :claim, claimedAt = :now",
                condition="claim = :old AND #state = :started",
                values={":claim": claim, ":now": iso(now), ":old": found["claim"], ":started": "STARTED"},
                names={"#state": "state"},
            )
            if taken is not None:
                return None
        raise IdempotencyKeyInUse

    def _release(self, pk: str, claim: str) -> None:
        """Give up the claim of a request that failed: a retry with the same request takes it over at once
        (and does the change); another request with the key stays a 409. An update rather than a delete,
        so no function needs more than the writes it makes anyway."""
        # Taken over meanwhile, or DynamoDB failed us: either way the claim lapses after `LEASE`.
        with contextlib.suppress(ClientError):
            self.store.update_if(
                pk,
                _META,
                "SET claimedAt = :released",
                condition="claim = :claim",
                values={":released": iso(_RELEASED), ":claim": claim},
            )
