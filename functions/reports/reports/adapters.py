"""The ports of `reports.runs` over S3 (files with presigned links) and SES (raw email)."""

from collections.abc import Sequence
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from common.dynamo import AWS_CONFIG


@cache
def _s3() -> Any:
    return boto3.client("s3", config=AWS_CONFIG.merge(Config(signature_version="s3v4")))


@cache
def _ses() -> Any:
    return boto3.client("ses", config=AWS_CONFIG)


class S3Files:
    def __init__(self, bucket: str, link_seconds: int, client: Any = None) -> None:
        self.bucket = bucket
        self.link_seconds = link_seconds
        self._client = client

    def put(self, key: str, content: bytes, content_type: str) -> str:
        client = self._client or _s3()
        client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=content_type)
        url: str = client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.link_seconds
        )
        return url


class SesMailer:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        client = self._client or _ses()
        response = client.send_raw_email(Source=sender, Destinations=list(recipients), RawMessage={"Data": raw})
        return str(response["MessageId"])
