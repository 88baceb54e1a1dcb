"""Identifiers: time-ordered, URL-safe, and validated before they reach a key."""

import os
import threading
import time
from typing import Annotated

from pydantic import Field

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


_RANDOM_BITS = 80
_last = (0, 0)
_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """A sortable id: 48 bits of milliseconds then 80 random bits, e.g. `p_01jd8x...`. Within one
    millisecond a process counts up from its last id instead of drawing anew, so the ids it makes
    sort in the order it made them (a ledger read newest first is then exact)."""
    global _last
    with _lock:
        millis, random = int(time.time() * 1000), int.from_bytes(os.urandom(10), "big")
        if millis <= _last[0]:
            millis, random = _last[0], _last[1] + 1
            if random >> _RANDOM_BITS:  # 2**80 ids in one millisecond: borrow the next one
                millis, random = millis + 1, 0
        _last = (millis, random)
    value = (millis << _RANDOM_BITS) | random
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"


ID_PATTERN = r"^[a-z]{1,4}_[0-9a-z]{26}$"
EntityId = Annotated[str, Field(pattern=ID_PATTERN, max_length=31)]
Sku = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9][A-Z0-9._-]{0,63}$",
        description="Stock keeping unit: upper-case letters, digits, '.', '_' and '-'",
        examples=["TEE-RED-M"],
    ),
]
