"""Opaque pagination cursors. A cursor wraps DynamoDB's LastEvaluatedKey and the scope of the query it
came from, so a client can neither read it meaningfully nor replay it against another query (another
customer's orders, another category): a cursor from elsewhere is a 400, never a leak."""

import base64
import binascii
import hashlib
import json
from typing import Any

from common.errors import BadRequest


def _tag(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


def encode_cursor(last_key: dict[str, Any] | None, scope: str) -> str | None:
    if not last_key:
        return None
    payload = json.dumps({"s": _tag(scope), "k": last_key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = payload["k"]
        valid = payload["s"] == _tag(scope) and isinstance(key, dict)
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise BadRequest("the cursor is invalid or belongs to another query", code="invalid_cursor")
    return dict(key)
