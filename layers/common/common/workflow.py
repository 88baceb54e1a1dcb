"""Step Functions from a function's side: resuming a `.waitForTaskToken` step and starting executions."""

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from common.dynamo import AWS_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


@cache
def sfn_client() -> "SFNClient":
    return boto3.client("stepfunctions", config=AWS_CONFIG)


class TaskCallbacks:
    """Resume or fail a waiting step. A token that is no longer waited on (the step timed out, or
    another message already resumed it) is not an error: the caller recorded its decision either way,
    and the workflow moved on. Returns whether the step was resumed."""

    def __init__(self, client: "SFNClient | None" = None) -> None:
        self._client = client

    @property
    def client(self) -> "SFNClient":
        return self._client or sfn_client()

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        gone = (
            self.client.exceptions.TaskDoesNotExist,
            self.client.exceptions.TaskTimedOut,
            self.client.exceptions.InvalidToken,
        )
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output))
        except gone:
            return False
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        gone = (
            self.client.exceptions.TaskDoesNotExist,
            self.client.exceptions.TaskTimedOut,
            self.client.exceptions.InvalidToken,
        )
        try:
            self.client.send_task_failure(taskToken=token, error=error, cause=cause[:256])
        except gone:
            return False
        return True
