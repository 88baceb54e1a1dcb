"""The mail port over SES v2: a whole MIME message (HTML and text parts, Reply-To) sent as raw content.
Locally the same call lands in moto, whose SES writes every message to the outbox (`local.outbox`)."""

from collections.abc import Sequence
from functools import cache
from typing import Any

import boto3

from common.dynamo import AWS_CONFIG


@cache
def sesv2_client() -> Any:
    return boto3.client("sesv2", config=AWS_CONFIG)


class SesMailer:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        response = (self._client or sesv2_client()).send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": list(recipients)},
            Content={"Raw": {"Data": raw}},
        )
        return str(response["MessageId"])
