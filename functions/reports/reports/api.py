"""Staff's reports: sales, top products, best customers, campaigns, affiliates, payments due, and
report runs on demand (queued here, run by the run function) with their files. Each report reads the
aggregates of its period only."""

from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from common.auth import ADMIN
from common.errors import NotFound
from common.http import accepted, make_resolver, requires, responses
from common.observability import make_logger
from reports import queries, runs
from reports.queries import (
    AffiliateRow,
    CampaignRow,
    CustomerRow,
    ListReport,
    PaymentsReport,
    ProductRow,
    SalesReport,
)
from reports.runs import Kind, Status
from reports.settings import settings
from reports.wiring import files, runner, store, zone_today

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


class RunFile(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    name: str
    url: str = Field(description="This API's path that redirects to a fresh, short-lived download link (admin)")


class RunOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, extra="ignore")

    run_id: str
    kind: str
    period: str
    status: Status = Field(description="QUEUED, then RUNNING, then DONE (or FAILED: asking again runs it again)")
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    recipients: list[str] = Field(default_factory=list)
    files: list[RunFile] = Field(
        default_factory=list, description="Stored files, once DONE (also attached to the email)"
    )
    error: str | None = None

    @classmethod
    def of(cls, record: dict[str, Any]) -> "RunOut":
        status = "DONE" if record["status"] == "SENT" else record["status"]  # runs recorded before QUEUED/DONE
        files = [
            RunFile(name=f["name"], url=f"/reports/runs/{record['runId']}/files/{quote(f['name'])}")
            for f in record.get("files", [])
        ]
        return cls.model_validate({**record, "status": status, "files": files})


RunId = Annotated[str, Path(alias="runId", pattern=r"^run_[0-9a-z]{26}$")]


@app.post(
    "/reports/runs",
    summary="Run a report (once per kind and period): queued now, followed on its Location (admin)",
    responses=responses(400, 401, 403, 422, 503, success=202, description="The run, queued (or as recorded)"),
    tags=TAGS,
)
@requires(ADMIN)
def start_run(body: Annotated[RunIn, Body()]) -> Response[RunOut]:
    record = runs.request_run(store(), runner(), body.kind, body.period, zone_today())
    run = RunOut.of(record)
    return accepted(run, f"/reports/runs/{run.run_id}")


@app.get(
    "/reports/runs/<runId>",
    summary="A report run's progress, and its files once done (admin)",
    responses=responses(401, 403, 404),
    tags=TAGS,
)
@requires(ADMIN)
def get_run(run_id: RunId) -> RunOut:
    record = store().run_by_id(run_id)
    if record is None:
        raise NotFound(f"no report run {run_id}")
    return RunOut.of(record)


@app.get(
    "/reports/runs/<runId>/files/<name>",
    summary="Download a file of a report run: a redirect to a link valid for a few minutes (admin)",
    responses=responses(401, 403, 404, 422, success=302, description="Found: `Location` is the download link"),
    tags=TAGS,
)
@requires(ADMIN)
def get_file(run_id: RunId, name: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]) -> Response[None]:
    url = runs.file_link(store(), files(), run_id, name)
    return Response(
        status_code=HTTPStatus.FOUND,
        content_type=content_types.APPLICATION_JSON,
        body=None,
        headers={"Location": url, "Cache-Control": "no-store"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
