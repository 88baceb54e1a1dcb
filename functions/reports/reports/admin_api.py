"""Staff's reports: sales, top products, best customers, campaigns, affiliates, payments due, and
report runs on demand (queued here, run by the run function) with their files. Each report reads the
aggregates of its period only."""

from datetime import date
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import idempotency_header
from common.auth import ADMIN
from common.http import accepted, caller, make_resolver, requires, responses
from common.observability import make_logger
from reports.logic import campaigns as campaign_spend
from reports.logic import payments as payments_due
from reports.logic import queries, runs
from reports.models import (
    AffiliatesReport,
    CampaignName,
    CampaignsReport,
    CustomersReport,
    PaymentsReport,
    ReportGranularity,
    RunIn,
    RunOut,
    SalesReport,
    SpendIn,
    SpendOut,
    TopProductsReport,
)
from reports.settings import settings
from reports.wiring import files, runner, store, zone_today

logger = make_logger("reports")
app = make_resolver(logger)

From = Annotated[
    date | None, Query(alias="from", description="First day (shop's time zone); default 29 days before `to`")
]
To = Annotated[date | None, Query(alias="to", description="Last day, included; default today")]
Top = Annotated[int, Query(ge=1, le=100)]
RunId = Annotated[str, Path(alias="runId", pattern=r"^run_[0-9a-z]{26}$")]
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
TAGS = ["reports"]
RunKey = Annotated[
    str | None, idempotency_header("Makes a retried request queue once: the same key answers the first run")
]


def _days(start: date | None, end: date | None) -> tuple[date, date]:
    return queries.asked_days(start, end, zone_today())


@app.get(
    "/reports/sales",
    operation_id="getSalesReport",
    summary="Sales per day, week or month (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def sales(
    start: From = None, end: To = None, granularity: Annotated[ReportGranularity, Query()] = ReportGranularity.DAY
) -> SalesReport:
    first, last = _days(start, end)
    return queries.sales(store(), first, last, granularity, settings().shop_currency)


@app.get(
    "/reports/top-products",
    operation_id="getTopProductsReport",
    summary="Best-selling products (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def top_products(start: From = None, end: To = None, limit: Top = 10) -> TopProductsReport:
    first, last = _days(start, end)
    return TopProductsReport(
        start=first, end=last, items=queries.top_products(store(), first, last, limit, settings().shop_currency)
    )


@app.get(
    "/reports/customers",
    operation_id="getCustomersReport",
    summary="Best customers by net revenue (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def best_customers(start: From = None, end: To = None, limit: Top = 10) -> CustomersReport:
    first, last = _days(start, end)
    items = queries.best_customers(store(), first, last, limit, settings().shop_currency)
    return CustomersReport(start=first, end=last, items=items)


@app.get(
    "/reports/campaigns",
    operation_id="getCampaignsReport",
    summary="Campaigns: sessions, orders, conversion, revenue, spend, cost per order, return on ad spend (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def campaigns(start: From = None, end: To = None) -> CampaignsReport:
    first, last = _days(start, end)
    return CampaignsReport(
        start=first, end=last, items=queries.campaigns(store(), first, last, settings().shop_currency)
    )


@app.put(
    "/reports/campaigns/<campaign>/spend",
    operation_id="putCampaignSpend",
    summary="Record a campaign's ad spend for a day, replacing that day's figure (admin)",
    responses=responses(400, 401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def put_campaign_spend(campaign: Annotated[CampaignName, Path()], spend: Annotated[SpendIn, Body()]) -> SpendOut:
    return campaign_spend.record_spend(store(), campaign, spend, settings().shop_currency, by=caller(app).sub)


@app.get(
    "/reports/affiliates",
    operation_id="getAffiliatesReport",
    summary="Affiliate commissions of a month (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def affiliates(
    month: Annotated[
        str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default this month")
    ] = None,
) -> AffiliatesReport:
    chosen = month or zone_today().strftime("%Y-%m")
    return AffiliatesReport(items=queries.affiliates(store(), chosen, settings().shop_currency))


@app.get(
    "/reports/payments",
    operation_id="getPaymentsReport",
    summary="Payments due: per transaction and day gross, Stripe fees, refunds, disputes, commissions, net (admin)",
    responses=responses(401, 403, 422),
    tags=TAGS,
)
@requires(ADMIN)
def payments(start: From = None, end: To = None) -> PaymentsReport:
    first, last = _days(start, end)
    return payments_due.payments(store(), first, last, settings().shop_currency)


@app.post(
    "/reports/runs",
    operation_id="startReportRun",
    summary="Run a report (once per kind and period): queued now, followed on its Location (admin)",
    responses=responses(400, 401, 403, 422, 503, success=202, description="The run, queued (or as recorded)"),
    tags=TAGS,
)
@requires(ADMIN)
def start_run(body: Annotated[RunIn, Body()], idempotency_key: RunKey = None) -> Response[RunOut]:
    asked = runs.request_run(
        store(), runner(), body.kind, body.period, zone_today(), idempotency_key=idempotency_key, by=caller(app).sub
    )
    run = RunOut.of(asked)
    return accepted(run, f"/reports/runs/{run.run_id}")


@app.get(
    "/reports/runs/<runId>",
    operation_id="getReportRun",
    summary="A report run's progress, and its files once done (admin)",
    responses=responses(401, 403, 404),
    tags=TAGS,
)
@requires(ADMIN)
def get_run(run_id: RunId) -> RunOut:
    return RunOut.of(runs.run_of(store(), run_id))


@app.get(
    "/reports/runs/<runId>/files/<name>",
    operation_id="downloadReportFile",
    summary="Download a file of a report run: a redirect to a link valid for a few minutes (admin)",
    responses=responses(401, 403, 404, 422, success=302, description="Found: `Location` is the download link"),
    tags=TAGS,
)
@requires(ADMIN)
def get_file(run_id: RunId, name: FileName) -> Response[None]:
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
