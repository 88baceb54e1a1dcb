"""Affiliates over HTTP: applying, an approved affiliate's dashboard and ledger, and staff's approval,
listing and payouts."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from affiliates import logic
from affiliates.models import (
    AffiliateMeOut,
    AffiliateOut,
    AffiliatePage,
    AffiliatePayoutOut,
    AffiliateStatsOut,
    ApplicationIn,
    ApprovalIn,
    CommissionOut,
    CommissionPage,
)
from affiliates.settings import settings
from affiliates.wiring import groups, publisher, stats_reader, store
from common.api_models import Cursor, Limit, idempotency_header
from common.auth import ADMIN, AFFILIATE
from common.http import caller, created, make_resolver, requires, responses
from common.observability import make_logger

logger = make_logger("affiliates")
app = make_resolver(logger)

AffiliateId = Annotated[str, Path(alias="affiliateId", max_length=64)]
From = Annotated[
    date | None, Query(alias="from", description="First day (shop's time zone); default 29 days before `to`")
]
To = Annotated[date | None, Query(alias="to", description="Last day, included; default today")]
IdempotencyKey = Annotated[
    str | None, idempotency_header("Makes a retried payout pay once: the same key answers the first payout")
]


def _applicant() -> logic.Applicant:
    """The caller with their Cognito user name (the `cognito:username` claim; with email sign-in it is
    the user's generated id, which is also their `sub`)."""
    who = caller(app)
    claims = ((app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    return logic.Applicant(sub=who.sub, username=str(claims.get("cognito:username") or who.sub), email=who.email)


@app.post(
    "/affiliates",
    operation_id="applyAsAffiliate",
    summary="Apply to become an affiliate (one application per user)",
    responses=responses(400, 401, 409, 422, success=201, description="Applied; PENDING until staff approve"),
    tags=["affiliates"],
)
@requires()
def apply(application: Annotated[ApplicationIn, Body()]) -> Response[AffiliateOut]:
    affiliate = logic.apply(store(), _applicant(), application)
    logger.info("affiliate applied", extra={"affiliateId": affiliate.affiliate_id})
    return created(AffiliateOut.of(affiliate, settings().shop_currency), "/affiliates/me")


@app.get(
    "/affiliates/me",
    operation_id="getMyAffiliateAccount",
    summary="One's own affiliate account: its status (PENDING until staff approve), code, referral link, "
    "rate and totals",
    responses=responses(401, 404),
    tags=["affiliates"],
)
@requires()  # any signed-in user: an applicant follows `POST /affiliates`' Location here
def me() -> AffiliateMeOut:
    config = settings()
    affiliate = logic.affiliate_of_user(store(), caller(app).sub)
    return AffiliateMeOut.of(affiliate, config.shop_url, config.shop_currency)


@app.get(
    "/affiliates/me/commissions",
    operation_id="listMyCommissions",
    summary="An approved affiliate's commissions, newest order first",
    responses=responses(400, 401, 403, 404, 422),
    tags=["affiliates"],
)
@requires(AFFILIATE, ADMIN)
def my_commissions(cursor: Cursor = None, limit: Limit = 50) -> CommissionPage:
    affiliate = logic.affiliate_of_user(store(), caller(app).sub)
    items, next_cursor = logic.commissions(store(), affiliate.affiliate_id, cursor=cursor, limit=limit)
    return CommissionPage(items=[CommissionOut.of(c) for c in items], next_cursor=next_cursor)


@app.get(
    "/affiliates/me/stats",
    operation_id="getMyAffiliateStats",
    summary="An approved affiliate's clicks, orders, conversion and commissions per day (the shop's days)",
    responses=responses(401, 403, 404, 422),
    tags=["affiliates"],
)
@requires(AFFILIATE, ADMIN)
def my_stats(start: From = None, end: To = None) -> AffiliateStatsOut:
    config = settings()
    affiliate = logic.affiliate_of_user(store(), caller(app).sub)
    last = end or datetime.now(UTC).astimezone(config.zone).date()
    first = start or last - timedelta(days=29)
    days = logic.stats(stats_reader(), affiliate.affiliate_id, first, last)
    return AffiliateStatsOut.of(first, last, days, config.shop_currency)


@app.get(
    "/admin/affiliates",
    operation_id="listAffiliates",
    summary="Every affiliate account, newest first (admin)",
    responses=responses(400, 401, 403, 422),
    tags=["affiliates"],
)
@requires(ADMIN)
def list_affiliates(cursor: Cursor = None, limit: Limit = 50) -> AffiliatePage:
    currency = settings().shop_currency
    items, next_cursor = logic.list_affiliates(store(), cursor=cursor, limit=limit)
    return AffiliatePage(items=[AffiliateOut.of(a, currency) for a in items], next_cursor=next_cursor)


@app.post(
    "/affiliates/<affiliateId>/approve",
    operation_id="approveAffiliate",
    summary="Approve an application at a commission rate; the user joins the `affiliate` group (admin)",
    responses=responses(400, 401, 403, 404, 409, 422),
    tags=["affiliates"],
)
@requires(ADMIN)
def approve(affiliate_id: AffiliateId, approval: Annotated[ApprovalIn, Body()]) -> AffiliateOut:
    affiliate = logic.approve(store(), groups(), affiliate_id, approval.rate_bps)
    logger.info("affiliate approved", extra={"affiliateId": affiliate_id, "rateBps": approval.rate_bps})
    return AffiliateOut.of(affiliate, settings().shop_currency)


@app.post(
    "/affiliates/<affiliateId>/payouts",
    operation_id="payOutAffiliate",
    summary="Pay out every approved commission of an affiliate; answers the payout's total (admin)",
    responses=responses(400, 401, 403, 404, 422, 503),
    tags=["affiliates"],
)
@requires(ADMIN)
def pay_out(affiliate_id: AffiliateId, idempotency_key: IdempotencyKey = None) -> AffiliatePayoutOut:
    payout = logic.pay_out(
        store(),
        affiliate_id,
        currency=settings().shop_currency,
        idempotency_key=idempotency_key,
        publish=publisher(),
    )
    logger.info("affiliate paid out", extra={"affiliateId": affiliate_id, "payoutId": payout.payout_id})
    return AffiliatePayoutOut.of(payout)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
