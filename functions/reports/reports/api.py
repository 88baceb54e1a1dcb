"""Staff's reports: sales, top products, best customers, campaigns, affiliates, payments due, and
report runs on demand. Each reads the aggregates of its period only."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.auth import ADMIN
from common.errors import NotFound
from common.http import created, make_resolver, requires, responses
from common.invoke import invoke
from common.observability import make_logger
from reports import queries
from reports.queries import (
    AffiliateRow,
    CampaignRow,
    CustomerRow,
    ListReport,
    PaymentsReport,
    ProductRow,
    SalesReport,
)
from reports.runs import Kind, period_days
from reports.settings import settings
from reports.wiring import store

logger = make_logger("reports")
app = make_resolver(logger)

From = Annotated[
    date | None, Query(alias="from", description="First day (shop's time zone); default 29 days before `to`")
]
To = Annotated[date | None, Query(alias="to", description="Last day, included; default today")]
Limit = Annotated[int, Query(ge=1, le=100)]
TAGS = ["reports"]


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    last = end or datetime.now(UTC).astimezone(settings().zone).date()
    return start or last - timedelta(days=29), last


@app.get(
    "/reports/sales", summary="Sales per day, week or month (admin)", responses=responses(401, 403, 422), tags=TAGS
)
@requires(ADMIN)
def sales(
    start: From = None, end: To = None, granularity: Annotated[Literal["day", "week", "month"], Query()] = "day"
) -> SalesReport:
    first, last = _period(start, end)
    return queries.sales(store(), first, last, granularity, settings().shop_currency)


@app.get(
    "/reports/top-products", summary="Best-selling products (admin)", responses=responses(401, 403, 422), tags=TAGS
)
@requires(ADMIN)
def top_products(start: From = None, end: To = None, limit: Limit = 10) -> ListReport[ProductRow]:
    first, last = _period(start, end)
    return ListReport[ProductRow](
        start=first, end=last, items=queries.top_products(store(), first, last, limit, settings().shop_currency)
    )


@app.get(
    "/reports/customers", summary="Best customers by net revenue (admin)", responses=responses(401, 403, 422), tags=TAGS
)
@requires(ADMIN)
def best_customers(start: From = None, end: To = None, limit: Limit = 10) -> ListReport[CustomerRow]:
    first, last = _period(start, end)
    items = queries.best_customers(store(), first, last, limit, settings().shop_currency)
    return ListReport[CustomerRow](start=first, end=last, items=items)


@app.get(
    "/reports/campaigns",
    summary="Campaigns: sessions, orders, conversion (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def campaigns(start: From = None, end: To = None) -> ListReport[CampaignRow]:
    first, last = _period(start, end)
    return ListReport[CampaignRow](
        start=first, end=last, items=queries.campaigns(store(), first, last, settings().shop_currency)
    )


@app.get(
    "/reports/affiliates",
    summary="Affiliate commissions of a month (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def affiliates(
    month: Annotated[
        str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default this month")
    ] = None,
) -> ListReport[AffiliateRow]:
    chosen = month or datetime.now(UTC).astimezone(settings().zone).strftime("%Y-%m")
    return ListReport[AffiliateRow](items=queries.affiliates(store(), chosen, settings().shop_currency))


@app.get(
    "/reports/payments",
    summary="Payments due: gross, fees, commissions, net (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def payments(start: From = None, end: To = None) -> PaymentsReport:
    first, last = _period(start, end)
    return queries.payments(store(), first, last, settings().shop_currency)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    kind: Kind
    period: Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")] | None = Field(
        default=None,
        description="A day (YYYY-MM-DD; a Monday for weekly), or a month for statements; default the last one",
    )


class RunOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, extra="ignore")

    run_id: str
    kind: str
    period: str
    status: str
    started_at: str
    finished_at: str | None = None
    recipients: list[str] = Field(default_factory=list)
    files: list[dict[str, str]] = Field(default_factory=list)
    error: str | None = None

    @classmethod
    def of(cls, record: dict[str, Any]) -> "RunOut":
        return cls.model_validate(record)


@app.post(
    "/reports/runs",
    summary="Run a report now (once per kind and period) (admin)",
    responses=responses(400, 401, 403, 422, 503, success=201, description="The run"),
    tags=TAGS,
)
@requires(ADMIN)
def start_run(body: Annotated[RunIn, Body()]) -> Response[RunOut]:
    if body.period is not None:
        period_days(body.kind, body.period)  # a 422 here, not the run function's error as a 500
    record = invoke(settings().report_run_function, body.model_dump(exclude_none=True))
    run = RunOut.of(record)
    return created(run, f"/reports/runs/{run.run_id}")


@app.get(
    "/reports/runs/<runId>",
    summary="A report run's state and links (admin)",
    responses=responses(401, 403, 404),
    tags=TAGS,
)
@requires(ADMIN)
def get_run(run_id: Annotated[str, Path(alias="runId", pattern=r"^run_[0-9a-z]{26}$")]) -> RunOut:
    record = store().run_by_id(run_id)
    if record is None:
        raise NotFound(f"no report run {run_id}")
    return RunOut.of(record)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
