"""The customer's own side of customers (`/me…`): one's profile, addresses, saved cards, suggestions,
export and erasure; every route is keyed by the caller's own `sub`. The public "bought together" list is
`customers.public_api`, support's view `customers.admin_api`: each its own function and role."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.http import caller, created, make_resolver, requires, responses
from common.observability import make_logger
from customers import logic, recommend
from customers.models import (
    AddressIn,
    AddressOut,
    AddressPage,
    ConsentsOut,
    ExportOrderOut,
    ExportOut,
    OfferOut,
    PaymentMethodOut,
    PaymentMethodPage,
    ProfileIn,
    ProfileOut,
    RecommendationPage,
    SuggestionLimit,
)
from customers.settings import settings
from customers.wiring import logins, orders, payments, stock, store

logger = make_logger("customers")
app = make_resolver(logger)


@app.get(
    "/me",
    operation_id="getMyProfile",
    summary="One's profile and what one's orders add up to",
    responses=responses(401),
    tags=["customers"],
)
@requires()
def get_me() -> ProfileOut:
    me = caller(app)
    found, summary = logic.profile(store(), payments(), me.sub)
    return ProfileOut.of(found, summary, settings().shop_currency, email=me.email)


@app.put(
    "/me",
    operation_id="updateMyProfile",
    summary="Replace one's name, phone and consent",
    responses=responses(400, 401, 422),
    tags=["customers"],
)
@requires()
def put_me(body: Annotated[ProfileIn, Body()]) -> ProfileOut:
    me = caller(app)
    found, summary = logic.update_profile(store(), payments(), me.sub, me.email, body)
    return ProfileOut.of(found, summary, settings().shop_currency, email=me.email)


@app.get(
    "/me/export",
    operation_id="exportMyData",
    summary="Download everything the shop keeps about one (profile, consents, addresses, orders, offers)",
    responses=responses(401),
    tags=["customers"],
)
@requires()
def export_me() -> Response[ExportOut]:
    me = caller(app)
    found = logic.export(store(), me.sub)
    default_id = found.profile.default_address_id
    body = ExportOut(
        exported_at=found.exported_at,
        customer_id=me.sub,
        profile=ProfileOut.of(found.profile, found.summary, settings().shop_currency, email=me.email),
        consents=ConsentsOut(marketing_email=found.profile.marketing_consent, updated_at=found.profile.updated_at),
        addresses=[AddressOut.of(a, default_id) for a in found.addresses],
        orders=[ExportOrderOut.of_record(o) for o in found.orders],
        offers=[OfferOut.model_validate(d) for d in found.deals],
    )
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"},
    )


@app.delete(
    "/me",
    operation_id="eraseMyData",
    summary="Erase one's data: profile, addresses, history, saved cards and login; one's orders stay, "
    "anonymised, for the books",
    responses=responses(401, 409, 503, success=204, description="Erased (or nothing left to erase)"),
    tags=["customers"],
)
@requires()
def erase_me() -> Response[None]:
    logic.erase(store(), orders(), payments(), logins(), caller(app).sub)
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=content_types.APPLICATION_JSON, body=None)


@app.get(
    "/me/addresses",
    operation_id="listMyAddresses",
    summary="One's addresses",
    responses=responses(401),
    tags=["customers"],
)
@requires()
def list_addresses() -> AddressPage:
    found, default_id = logic.addresses(store(), caller(app).sub)
    return AddressPage(items=[AddressOut.of(a, default_id) for a in found], next_cursor=None)


@app.post(
    "/me/addresses",
    operation_id="addMyAddress",
    summary="Keep an address (the first one is the default)",
    responses=responses(400, 401, 409, 422, success=201, description="Kept"),
    tags=["customers"],
)
@requires()
def add_address(body: Annotated[AddressIn, Body()]) -> Response[AddressOut]:
    address, default_id = logic.add_address(store(), caller(app).sub, body)
    return created(AddressOut.of(address, default_id), f"/me/addresses/{address.address_id}")


@app.get(
    "/me/addresses/<addressId>",
    operation_id="getMyAddress",
    summary="One of one's addresses",
    responses=responses(401, 404, 422),
    tags=["customers"],
)
@requires()
def get_address(address_id: Annotated[str, Path(alias="addressId", max_length=64)]) -> AddressOut:
    found, default_id = logic.address(store(), caller(app).sub, address_id)
    return AddressOut.of(found, default_id)


@app.delete(
    "/me/addresses/<addressId>",
    operation_id="deleteMyAddress",
    summary="Delete one of one's addresses",
    responses=responses(401, 404, success=204, description="Deleted"),
    tags=["customers"],
)
@requires()
def delete_address(address_id: Annotated[str, Path(alias="addressId", max_length=64)]) -> Response[None]:
    logic.delete_address(store(), caller(app).sub, address_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=content_types.APPLICATION_JSON, body=None)


@app.get(
    "/me/recommendations",
    operation_id="listMyRecommendations",
    summary="Suggestions from one's purchases, then best sellers of one's favourite categories",
    responses=responses(401, 422),
    tags=["customers"],
)
@requires()
def my_recommendations(limit: SuggestionLimit = 10) -> RecommendationPage:
    return RecommendationPage.of(recommend.for_customer(store(), stock(), caller(app).sub, limit=limit))


@app.get(
    "/me/payment-methods",
    operation_id="listMyPaymentMethods",
    summary="One's cards saved at Stripe (brand, last 4, expiry; no card data is stored here)",
    responses=responses(401, 503),
    tags=["customers"],
)
@requires()
def my_payment_methods() -> PaymentMethodPage:
    cards = logic.saved_cards(store(), payments(), caller(app).sub)
    return PaymentMethodPage(items=[PaymentMethodOut(**c.model_dump()) for c in cards], next_cursor=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
