"""The ports of `customers.ports` over Lambda and SES. Another domain's errors stop here: the failures
customers knows by name are translated, any other is a 5xx (`common.invoke.DependencyFailed`)."""

from functools import cache
from typing import Any

import boto3

from common.contracts import (
    AnonymisedOrders,
    CustomerRef,
    ForgetCustomerInput,
    ForgetCustomerResult,
    IssueCouponInput,
    IssuedCoupon,
    SavedCards,
)
from common.dynamo import AWS_CONFIG
from common.invoke import RemoteError, invoke
from customers.settings import settings


class LambdaPayments:
    def saved_cards(self, customer_id: str) -> SavedCards:
        return SavedCards.model_validate(invoke(settings().list_payment_methods_function, _customer(customer_id)))

    def forget(self, customer_id: str) -> ForgetCustomerResult:
        payload = ForgetCustomerInput(customer_id=customer_id).model_dump(mode="json", by_alias=True)
        return ForgetCustomerResult.model_validate(invoke(settings().forget_customer_function, payload))


def _customer(customer_id: str) -> dict[str, Any]:
    return CustomerRef(customer_id=customer_id).model_dump(mode="json", by_alias=True)


@cache
def cognito_client() -> Any:
    """The user pool's client. Typed `Any`: the project does not install the cognito-idp stubs for one call."""
    return boto3.client("cognito-idp", config=AWS_CONFIG)


class CognitoLogins:
    """Sign-ins in the shop's user pool. The pool signs in by email (`UsernameAttributes`), so a user's
    Cognito user name is their `sub`: the customer id is enough to find them."""

    def __init__(self, user_pool_id: str | None = None, client: Any = None) -> None:
        self.user_pool_id = user_pool_id if user_pool_id is not None else settings().user_pool_id
        self._client = client

    def delete(self, customer_id: str) -> None:
        if not self.user_pool_id:
            raise RuntimeError("USER_POOL_ID is not configured")
        client = self._client or cognito_client()
        try:
            client.admin_delete_user(UserPoolId=self.user_pool_id, Username=customer_id)
        except client.exceptions.UserNotFoundException:
            return


class LambdaOrders:
    def anonymise(self, customer_id: str) -> AnonymisedOrders:
        payload = _customer(customer_id)
        return AnonymisedOrders.model_validate(invoke(settings().anonymise_orders_function, payload))


COUPON_CODE_TAKEN = "CouponCodeTaken"
"""What orders' IssueCouponFunction raises for a code another coupon has (orders' `CouponCodeTaken`)."""


class LambdaCoupons:
    def issue(self, request: IssueCouponInput) -> str:
        """A code that exists already was issued by an earlier attempt of the same deal (codes are
        derived from the customer and the lapse), so orders' refusal of a duplicate is success. Any
        other failure is orders' (a 5xx), whatever its message says."""
        payload = request.model_dump(mode="json", by_alias=True, exclude_none=True)
        try:
            answer = invoke(settings().issue_coupon_function, payload, expected={COUPON_CODE_TAKEN})
        except RemoteError:
            return request.code
        return IssuedCoupon.model_validate(answer).code


@cache
def ses_client() -> Any:
    return boto3.client("ses", config=AWS_CONFIG)


class SesMailer:
    def __init__(self, sender: str, client: Any = None) -> None:
        self.sender = sender
        self._client = client

    def send(self, to: str, subject: str, text: str) -> None:
        (self._client or ses_client()).send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
