"""The headers of the published document that Powertools cannot state from the code as they are sent.

- Header parameters keep their spelling: Powertools lowercases a header's name (`idempotency-key`) for
  its own case-insensitive lookup; the document names it as clients send it (`Idempotency-Key`, its
  schema `title`). A parameter whose schema says `x-required` (`common.api_models.idempotency_header(...,
  required=True)`) is documented required: checkout refuses a request without its key with its own 400
  (`idempotency_key_required`) rather than Powertools' 422, so the code keeps it optional.
- Every 201 and 202 names its `Location` (a path to `GET`, behind the stage or base path the client
  called: `common.links`), and every success of a route that takes an `Idempotency-Key` its
  `Idempotent-Replayed` (`common.idempotency`)."""

from __future__ import annotations

from typing import Any

LOCATION = {
    "description": "Where to `GET` what was created or accepted: a path on this API's host, with the "
    "stage or base path the request was sent to",
    "schema": {"type": "string"},
}
REPLAYED = {
    "description": "`true` when this answers an earlier request with the same `Idempotency-Key` (nothing "
    "was done twice); absent otherwise",
    "schema": {"type": "string", "enum": ["true"]},
}
REQUIRED_MARK = "x-required"


def declare_headers(paths: dict[str, dict[str, Any]]) -> None:
    """Spell header parameters as sent, and add the response headers above (in place)."""
    for operations in paths.values():
        for operation in operations.values():
            idempotent = False
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "header":
                    continue
                _spell(parameter)
                idempotent = idempotent or parameter["name"] == "Idempotency-Key"
            for status, answer in operation.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                headers = answer.setdefault("headers", {})
                if str(status) in ("201", "202"):
                    headers.setdefault("Location", LOCATION)
                if idempotent:
                    headers.setdefault("Idempotent-Replayed", REPLAYED)
                if not headers:
                    del answer["headers"]


def _spell(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema") or {}
    title = schema.get("title")
    if isinstance(title, str) and title.lower() == str(parameter.get("name", "")).lower():
        parameter["name"] = title
    if schema.pop(REQUIRED_MARK, False):
        parameter["required"] = True
        branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            schema.update(branches[0])
        elif branches:
            schema["anyOf"] = branches
