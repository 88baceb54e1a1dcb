"""The ports of `reports.ports` over S3 (files, and short-lived links to them), SES (raw email) and
Lambda (a queued run handed to the run function). Lambda's refusals become `RunNotStarted` here."""

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from common.dynamo import AWS_CONFIG
from common.invoke import lambda_client
from reports.errors import RunNotStarted
from reports.models import Kind, RunTask

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

LINK_SECONDS = 300
_LAMBDA_TRANSIENT = frozenset(
    {"TooManyRequestsException", "ServiceException", "ResourceConflictException", "EC2ThrottledException"}
)


@cache
def _s3() -> Any:
    return boto3.client("s3", config=AWS_CONFIG.merge(Config(signature_version="s3v4")))


@cache
def _ses() -> Any:
    return boto3.client("ses", config=AWS_CONFIG)


class S3Files:
    def __init__(self, bucket: str, link_seconds: int = LINK_SECONDS, client: Any = None) -> None:
        self.bucket = bucket
        self.link_seconds = link_seconds
        self._client = client

    def put(self, key: str, content: bytes, content_type: str) -> None:
        client = self._client or _s3()
        client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=content_type)

    def link(self, key: str) -> str:
        """Signed here, without a call to S3; valid for `link_seconds` or until the signing role's session
        ends, whichever is first — so it is made per request and never kept."""
        client = self._client or _s3()
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


class LambdaRunner:
    """Starts the run function with an `Event` invocation: Lambda queues the request and answers 202 at
    once; its retries and the on-failure destination are the function's `EventInvokeConfig`."""

    def __init__(self, function: str, client: "LambdaClient | None" = None) -> None:
        self.function = function
        self._client = client

    def start(self, kind: Kind, period: str, run_id: str) -> None:
        task = RunTask(kind=kind, period=period, run_id=run_id)
        payload = task.model_dump_json(by_alias=True, exclude_none=True).encode()
        try:
            (self._client or lambda_client()).invoke(
                FunctionName=self.function, InvocationType="Event", Payload=payload
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _LAMBDA_TRANSIENT:
                raise RunNotStarted() from error
            raise
        except BotoCoreError as error:  # no answer in time, or no connection
            raise RunNotStarted() from error
