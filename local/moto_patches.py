"""The three places where the local stack changes moto's own behaviour, and the moto they were written for.

The stack also hooks moto to reach its own parts — Lambda invokes go to the workers (`local.lambdas`),
EventBridge targets are delivered by the stack (`local.eventbridge`), sent mail is copied to the outbox
(`local.outbox`) — and those hooks live with what they wire. The patches here are different: each
replaces a piece of moto that works, but works in a way this stack cannot keep. Each returns its undo,
is smoke-tested in `tests/local/test_moto_patches.py` against the installed moto (the test fails when
the patch no longer applies or no longer changes what it is for), and says when it can go.

1. `install_item_snapshots` — `TransactWriteItems` copies only the items it touches.
   Why: to roll a failed transaction back, moto deep-copies every table the transaction names before
   it starts: 0.2 s at 5,000 items, all of it inside the DynamoDB lock (`local.aws.SerialiseDynamoDB`),
   so on a stack that had taken a few hundred orders every checkout waited on copies of the orders
   table. DynamoDB's cost does not grow with the table.
   Observed: no table is deep-copied by a transaction, and a failed one still changes nothing.
   Can go: when moto's `DynamoDBBackend.transact_write_items` stops copying whole tables.

2. `install_parse_cache` — a state machine's definition is parsed once, not at every execution.
   Why: moto's interpreter parses the ASL with a pure-Python ANTLR parser at every `StartExecution`
   (and at create): 0.35 s of CPU for the order workflow, holding the GIL of the process that also
   serves every AWS request, so a burst of checkouts queued behind parses.
   Observed: two executions of one machine run the ANTLR parser once (at create) and both succeed.
   Can go: when moto's `ExecutionWorker` keeps the parsed program per state machine itself.

3. `install_signing_key` — user pools sign tokens with a key made for this run.
   Why: moto signs every pool's tokens with one RSA key that ships inside the moto package, private
   half included (`moto/cognitoidp/resources/jwks-private.json`), so anyone could mint an admin token
   for the local API. The pools get a key generated now, and its public half is every pool's JWKS.
   Observed: a pool's token verifies with the JWKS the pool serves and not with moto's bundled key.
   Can go: when moto generates a key per pool (never while the bundled private key signs tokens).

Each was written against moto `WRITTEN_FOR`, the version `requirements-dev.txt` pins (a test holds
the two equal, so moving the pin means re-running the smoke tests and then moving `WRITTEN_FOR`).
Another installed moto gets a loud warning once per process; a moto whose patched parts are gone or
renamed is refused with `MotoPatchError`, because a patch that silently stops applying turns the
first two into slow stacks and the third into a forged-token hole.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Callable
from importlib import metadata
from typing import Any

log = logging.getLogger("local.moto_patches")

WRITTEN_FOR = "5.2.5"

Undo = Callable[[], None]

__all__ = [
    "WRITTEN_FOR",
    "MotoPatchError",
    "install_item_snapshots",
    "install_parse_cache",
    "install_signing_key",
    "version_warning",
]


class MotoPatchError(RuntimeError):
    """The installed moto no longer has what a patch replaces: the stack refuses to start without it."""

    def __init__(self, patch: str, missing: str) -> None:
        super().__init__(
            f"moto patch {patch!r} no longer fits moto {installed_moto()} (written for {WRITTEN_FOR}): {missing}. "
            f"Install the pinned moto (pip install -r requirements-dev.txt) or update local/moto_patches.py "
            f"until tests/local/test_moto_patches.py passes."
        )


def installed_moto() -> str:
    return metadata.version("moto")


def version_warning(installed: str) -> str | None:
    """The warning for a moto other than the one the patches were written for, or None."""
    if installed == WRITTEN_FOR:
        return None
    return (
        f"MOTO VERSION MISMATCH: moto {installed} is installed, the local stack's moto patches were written "
        f"for {WRITTEN_FOR} (requirements-dev.txt). They still apply, but may no longer do their job: run "
        f"`.venv/bin/pytest -q tests/local/test_moto_patches.py`, or install the pinned moto."
    )


@functools.cache
def _check_version() -> None:
    """Warn once per process, from the first patch installed."""
    warning = version_warning(installed_moto())
    if warning is not None:
        log.warning(warning)


def _require(patch: str, owner: Any, *names: str) -> None:
    for name in names:
        if not hasattr(owner, name):
            raise MotoPatchError(patch, f"{getattr(owner, '__name__', owner)!s}.{name} is gone")


# ---------------------------------------------------------------------------- 1. transactions
def install_item_snapshots() -> Undo:
    """Make moto's `TransactWriteItems` snapshot only the items it touches, not whole tables.

    The touched items alone are copied, the table copy becomes a no-op (`copy` as moto's module sees it
    while a transaction runs), and on failure the items are put back as they were. Only sound because
    DynamoDB requests are serialised (`local.aws.SerialiseDynamoDB`). Returns the undo."""
    _check_version()
    try:
        from moto.dynamodb import models
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table
    except ImportError as error:
        raise MotoPatchError("item snapshots", str(error)) from error
    _require("item snapshots", models.DynamoDBBackend, "transact_write_items")
    if getattr(models, "copy", None) is not copy:
        raise MotoPatchError("item snapshots", "moto.dynamodb.models no longer copies tables through `copy`")

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "snapshots_items", False):
        return lambda: None

    class TablesAsThey:
        """`copy` as `models` sees it while a transaction runs: a table "copy" is the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def snapshot(backend: Any, operations: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
        saved = []
        for operation in operations:
            _, op = next(iter(operation.items()))
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item")
            if table is None or not isinstance(source, dict) or table.hash_key_attr not in source:
                continue  # moto refuses the transaction before writing anything
            hash_value = DynamoType(source[table.hash_key_attr])
            range_value = DynamoType(source[table.range_key_attr]) if table.range_key_attr in source else None
            if table.has_range_key and range_value is None:
                continue
            item = table.items.get(hash_value)
            if table.has_range_key:
                item = (item or {}).get(range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(item)))
        return saved

    def put_back(table: Table, hash_value: Any, range_value: Any, item: Any) -> None:
        if not table.has_range_key:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            return
        bucket = table.items.setdefault(hash_value, {})
        if item is None:
            bucket.pop(range_value, None)
        else:
            bucket[range_value] = item
        if not bucket:
            table.items.pop(hash_value, None)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = snapshot(self, transact_items)
        setattr(models, "copy", TablesAsThey)  # noqa: B010 - a module attribute moto does not export
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(saved):
                put_back(table, hash_value, range_value, item)
            raise
        finally:
            setattr(models, "copy", copy)  # noqa: B010

    transact_write_items.snapshots_items = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items

    def undo() -> None:
        models.DynamoDBBackend.transact_write_items = original

    return undo


# ---------------------------------------------------------------------------- 2. state machine parses
def install_parse_cache() -> Undo:
    """Parse a state machine's definition once, not once per execution.

    The parse tree is kept per definition text; the evaluation components are still built fresh for
    each execution (cheap, and they hold an execution's state). A definition with errors raises as
    before and is not kept. Returns the undo."""
    _check_version()
    try:
        from moto.stepfunctions.parser.asl.parse import asl_parser
        from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    except ImportError as error:
        raise MotoPatchError("parse cache", str(error)) from error
    _require("parse cache", asl_parser, "AmazonStateLanguageParser")
    parser = asl_parser.AmazonStateLanguageParser
    _require("parse cache", parser, "parse")

    original = parser.parse
    if getattr(original, "caches_trees", False):
        return lambda: None
    trees: dict[str, Any] = {}

    def parse(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, tree = original(definition)
            trees[definition] = tree
            return program, tree
        return Preprocessor().visit(tree), tree

    parse.caches_trees = True  # type: ignore[attr-defined]
    parser.parse = staticmethod(parse)

    def undo() -> None:
        parser.parse = staticmethod(original)

    return undo


# ---------------------------------------------------------------------------- 3. Cognito signing key
def install_signing_key() -> Undo:
    """Make moto's user pools sign with an RSA key generated now, and serve its public half as every
    pool's JWKS. Call it before creating pools (a pool takes its key when created). Returns the undo,
    for tests that share a process with other moto users."""
    _check_version()
    from joserfc import jwk

    try:
        from moto.cognitoidp import models, responses
    except ImportError as error:
        raise MotoPatchError("signing key", str(error)) from error
    _require("signing key", models, "CognitoIdpUserPool")
    _require("signing key", responses, "CognitoIdpJsonWebKeyResponse")
    _require("signing key", responses.CognitoIdpJsonWebKeyResponse, "json_web_key")

    # moto writes this `kid` into every token header; the JWKS names the run's key the same way, so a
    # token signed with moto's published key finds a key and then fails its signature check.
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "dummy", "alg": "RS256", "use": "sig"}, private=True)
    original_init = models.CognitoIdpUserPool.__init__
    original_jwks = responses.CognitoIdpJsonWebKeyResponse.json_web_key

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if not hasattr(self, "json_web_key"):  # moto signs with something else now: do not start half-patched
            raise MotoPatchError("signing key", "CognitoIdpUserPool no longer has json_web_key")
        self.json_web_key = key

    models.CognitoIdpUserPool.__init__ = init
    responses.CognitoIdpJsonWebKeyResponse.json_web_key = json.dumps({"keys": [key.as_dict(private=False)]}).encode()

    def undo() -> None:
        models.CognitoIdpUserPool.__init__ = original_init
        responses.CognitoIdpJsonWebKeyResponse.json_web_key = original_jwks

    return undo
