"""The ports of `affiliates.ports` over AWS."""

from functools import cache
from typing import Any

import boto3

from affiliates.settings import settings
from common.dynamo import AWS_CONFIG


@cache
def cognito_client() -> Any:
    """The user pool's client. Typed `Any`: the project does not install the cognito-idp stubs for one call."""
    return boto3.client("cognito-idp", config=AWS_CONFIG)


class CognitoGroups:
    """Groups of the shop's user pool. `username` is the user's Cognito user name: with email as the
    sign-in attribute that is the generated id in the `cognito:username` claim (Cognito also accepts the
    email alias there)."""

    def __init__(self, user_pool_id: str | None = None, client: Any = None) -> None:
        self.user_pool_id = user_pool_id or settings().user_pool_id
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or cognito_client()

    def add(self, username: str, group: str) -> None:
        if not self.user_pool_id:
            raise RuntimeError("USER_POOL_ID is not configured")
        self.client.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
