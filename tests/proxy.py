"""A handler's Lambda proxy answer as a client of API Gateway reads it. The one `Answer` of the suites that
call API handlers in-process."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    """Status, JSON body (None when empty) and headers (a header given several times: its last value)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> "Answer":
        """Read a proxy result (`statusCode`, `headers`, `multiValueHeaders`, `body`) as API Gateway does."""
        headers = {name: values[-1] for name, values in (raw.get("multiValueHeaders") or {}).items()}
        headers.update(raw.get("headers") or {})
        body = json.loads(raw["body"]) if raw.get("body") else None
        return cls(status=int(raw["statusCode"]), body=body, headers=headers)

    @property
    def error(self) -> dict[str, Any]:
        """The error object of the one error shape (`{"error": {"code", "message", ...}}`)."""
        error: dict[str, Any] = self.body["error"]
        return error

    @property
    def error_code(self) -> str:
        return str(self.error["code"])
