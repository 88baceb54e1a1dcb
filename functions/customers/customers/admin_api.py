"""Support's side of customers: finding a customer by the first letters of their email or name, one
customer's whole picture, and notes on them (support, admin). Its function reads the customers table and
may only add notes to it."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import Cursor, Limit
from common.auth import ADMIN, SUPPORT
from common.http import caller, created, make_resolver, requires, responses
from common.observability import make_logger
from customers import logic
from customers.models import (
    AddressOut,
    CustomerId,
    CustomerMatchOut,
    CustomerMatchPage,
    CustomerOrderOut,
    NoteIn,
    NoteOut,
    ProfileOut,
    SearchQuery,
    SupportViewOut,
)
from customers.settings import settings
from customers.wiring import store

logger = make_logger("customers")
app = make_resolver(logger)

CustomerIdPath = Annotated[CustomerId, Path(alias="customerId")]


@app.get(
    "/admin/customers",
    operation_id="searchCustomers",
    summary="Customers whose email or name starts with `q`, case-insensitive (support, admin)",
    responses=responses(400, 401, 403, 422),
    tags=["customers"],
)
@requires(ADMIN, SUPPORT)
def search_customers(q: SearchQuery, cursor: Cursor = None, limit: Limit = 20) -> CustomerMatchPage:
    hits, next_cursor = logic.search(store(), q, cursor=cursor, limit=limit)
    return CustomerMatchPage(
        items=[CustomerMatchOut(customer_id=h.customer_id, email=h.email, name=h.name) for h in hits],
        next_cursor=next_cursor,
    )


@app.get(
    "/admin/customers/<customerId>",
    operation_id="getCustomer",
    summary="A customer's profile, addresses, orders, lifetime value and notes (support, admin)",
    responses=responses(401, 403, 404, 422),
    tags=["customers"],
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
    operation_id="addCustomerNote",
    summary="Add a note to a customer (support, admin)",
    responses=responses(400, 401, 403, 404, 422, success=201, description="Noted"),
    tags=["customers"],
)
@requires(ADMIN, SUPPORT)
def add_note(customer_id: CustomerIdPath, body: Annotated[NoteIn, Body()]) -> Response[NoteOut]:
    note = logic.add_note(store(), customer_id, caller(app).sub, body.text)
    return created(NoteOut.of(note), f"/admin/customers/{customer_id}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
