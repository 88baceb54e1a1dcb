"""The customers API: one's own profile, addresses, saved cards and suggestions; the public "bought
together" list of a product; and support's view of a customer."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.auth import ADMIN, SUPPORT
from common.http import caller, created, make_resolver, requires, responses
from common.observability import make_logger
from customers import logic, recommend
from customers.models import (
    AddressIn,
    AddressOut,
    AddressPage,
    ConsentsOut,
    CustomerId,
    CustomerOrderOut,
    ExportOrderOut,
    ExportOut,
    NoteIn,
    NoteOut,
    OfferOut,
    PaymentMethodOut,
    PaymentMethodPage,
    ProfileIn,
    ProfileOut,
    RecommendationOut,
    RecommendationPage,
    SupportViewOut,
)
from customers.settings import settings
from customers.wiring import logins, orders, payments, stock, store

logger = make_logger("customers")
app = make_resolver(logger)

Limit = Annotated[int, Query(ge=1, le=20, description="Suggestions wanted")]
ProductIdPath = Annotated[str, Path(alias="productId", max_length=64)]
CustomerIdPath = Annotated[CustomerId, Path(alias="customerId")]


def _page(suggestions: list[recommend.Suggestion]) -> RecommendationPage:
    items = [
        RecommendationOut(product_id=s.product_id, name=s.name, category=s.category, score=s.score, reason=s.reason)
        for s in suggestions
    ]
    return RecommendationPage(items=items, next_cursor=None)


# ---------------------------------------------------------------- the customer's own


@app.get("/me", summary="One's profile and what one's orders add up to", responses=responses(401), tags=["customers"])
@requires()
def get_me() -> ProfileOut:
    me = caller(app)
    found, summary = logic.profile(store(), payments(), me.sub)
    return ProfileOut.of(found, summary, settings().shop_currency, email=me.email)


@app.put("/me", summary="Replace one's name, phone and consent", responses=responses(400, 401, 422), tags=["customers"])
@requires()
def put_me(body: Annotated[ProfileIn, Body()]) -> ProfileOut:
    me = caller(app)
    found, summary = logic.update_profile(store(), me.sub, me.email, body)
    return ProfileOut.of(found, summary, settings().shop_currency, email=me.email)


@app.get(
    "/me/export",
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
    summary="Erase one's data: profile, addresses, history, saved cards and login; one's orders stay, "
    "anonymised, for the books",
    responses=responses(401, 409, 503, success=204, description="Erased (or nothing left to erase)"),
    tags=["customers"],
)
@requires()
def erase_me() -> Response[None]:
    logic.erase(store(), orders(), payments(), logins(), caller(app).sub)
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type=content_types.APPLICATION_JSON, body=None)


@app.get("/me/addresses", summary="One's addresses", responses=responses(401), tags=["customers"])
@requires()
def list_addresses() -> AddressPage:
    found, default_id = logic.addresses(store(), caller(app).sub)
    return AddressPage(items=[AddressOut.of(a, default_id) for a in found], next_cursor=None)


@app.post(
    "/me/addresses",
    summary="Keep an address (the first one is the default)",
    responses=responses(400, 401, 409, 422, success=201, description="Kept"),
    tags=["customers"],
)
@requires()
def add_address(body: Annotated[AddressIn, Body()]) -> Response[AddressOut]:
    address, default_id = logic.add_address(store(), caller(app).sub, body)
    return created(AddressOut.of(address, default_id), f"/me/addresses/{address.address_id}")


@app.delete(
    "/me/addresses/<addressId>",
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
    summary="Suggestions from one's purchases, then best sellers of one's favourite categories",
    responses=responses(401, 422),
    tags=["customers"],
)
@requires()
def my_recommendations(limit: Limit = 10) -> RecommendationPage:
    return _page(recommend.for_customer(store(), stock(), caller(app).sub, limit=limit))


@app.get(
    "/me/payment-methods",
    summary="One's cards saved at Stripe (brand, last 4, expiry; no card data is stored here)",
    responses=responses(401, 503),
    tags=["customers"],
)
@requires()
def my_payment_methods() -> PaymentMethodPage:
    cards = logic.saved_cards(store(), payments(), caller(app).sub)
    return PaymentMethodPage(items=[PaymentMethodOut(**c.model_dump()) for c in cards], next_cursor=None)


# ---------------------------------------------------------------- public


@app.get(
    "/products/<productId>/recommendations",
    summary="Customers who bought this also bought (active, in-stock products)",
    responses=responses(404, 422),
    tags=["customers"],
)
def product_recommendations(product_id: ProductIdPath, limit: Limit = 10) -> RecommendationPage:
    return _page(recommend.for_product(store(), stock(), product_id, limit=limit))


# ---------------------------------------------------------------- support


@app.get(
    "/admin/customers/<customerId>",
    summary="A customer's profile, addresses, orders, lifetime value and notes (support, admin)",
    responses=responses(401, 403, 404, 422),
    tags=["customers-admin"],
)
@requires(ADMIN, SUPPORT)
def support_view(customer_id: CustomerIdPath) -> SupportViewOut:
    view = logic.support_view(store(), customer_id)
    currency = settings().shop_currency
    default_id = view.profile.default_address_id
    return SupportViewOut(
        customer_id=customer_id,
        profile=ProfileOut.of(view.profile, view.summary, currency),
        addresses=[AddressOut.of(a, default_id) for a in view.addresses],
        orders=[CustomerOrderOut.of(o) for o in view.orders],
        notes=[NoteOut.of(n) for n in view.notes],
    )


@app.post(
    "/admin/customers/<customerId>/notes",
    summary="Add a note to a customer (support, admin)",
    responses=responses(400, 401, 403, 404, 422, success=201, description="Noted"),
    tags=["customers-admin"],
)
@requires(ADMIN, SUPPORT)
def add_note(customer_id: CustomerIdPath, body: Annotated[NoteIn, Body()]) -> Response[NoteOut]:
    note = logic.add_note(store(), customer_id, caller(app).sub, body.text)
    return created(NoteOut.of(note), f"/admin/customers/{customer_id}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
