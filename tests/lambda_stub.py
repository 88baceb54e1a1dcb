"""Another domain's function as `common.invoke` reaches it, answered by botocore's Stubber: the real Lambda
client, with each invoke's answer queued by the test. For the adapters that translate that domain's
errors into their own."""

import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from common import invoke


def _payload(body: Any) -> StreamingBody:
    raw = json.dumps(body).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


class StubbedLambda:
    """`common.invoke`'s Lambda client for one test; `fails`/`answers` queue the next invokes' answers."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client(
            "lambda", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        monkeypatch.setattr(invoke, "lambda_client", lambda: self.client)

    def fails(self, error_type: str, message: str) -> None:
        """The next invoke fails as Lambda reports a handler's exception of class `error_type`."""
        body = {"errorType": error_type, "errorMessage": message, "stackTrace": ['  File "handler.py", line 1']}
        self.stubber.add_response(
            "invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(body)}
        )

    def answers(self, body: dict[str, Any]) -> None:
        self.stubber.add_response("invoke", {"StatusCode": 200, "Payload": _payload(body)})

    def all_used(self) -> None:
        self.stubber.assert_no_pending_responses()
