"""Staff's view of stock: read counters and the ledger, adjust stock, set low-stock thresholds and shards."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from common.api_models import Cursor, Limit, idempotency_header
from common.auth import ADMIN, SUPPORT
from common.http import caller, created, make_resolver, requires, responses
from common.idempotency import mark_replayed
from common.ids import Sku
from common.observability import make_logger
from inventory import logic
from inventory.models import (
    AdjustmentIn,
    AdjustmentOut,
    LedgerEntryOut,
    LedgerPage,
    StockOut,
    StockPage,
    StockSettingsIn,
)
from inventory.wiring import publisher, store

logger = make_logger("inventory")
app = make_resolver(logger)

SkuPath = Annotated[Sku, Path()]
IdempotencyKey = Annotated[
    str | None, idempotency_header("Makes a retried adjustment apply once: the same key answers the first adjustment")
]


@app.get(
    "/inventory",
    operation_id="listStock",
    summary="Stock of every SKU, or of the low ones",
    responses=responses(400, 401, 403, 422),
    tags=["inventory"],
)
@requires(ADMIN, SUPPORT)
def list_stock(
    low_stock: Annotated[bool, Query(alias="lowStock", description="Only SKUs at or below their threshold")] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StockPage:
    stocks, next_cursor = logic.list_stock(store(), low_only=low_stock, cursor=cursor, limit=limit)
    return StockPage(items=[StockOut.of(s) for s in stocks], next_cursor=next_cursor)


@app.get(
    "/inventory/<sku>",
    operation_id="getStock",
    summary="Stock of one SKU",
    responses=responses(401, 403, 404, 422),
    tags=["inventory"],
)
@requires(ADMIN, SUPPORT)
def get_stock(sku: SkuPath) -> StockOut:
    return StockOut.of(logic.get_stock(store(), sku))


@app.put(
    "/inventory/<sku>",
    operation_id="updateStockSettings",
    summary="Set a SKU's low-stock threshold, or the number of items its stock is spread over",
    responses=responses(400, 401, 403, 404, 422, 503),
    tags=["inventory"],
)
@requires(ADMIN)
def update_stock_settings(sku: SkuPath, body: Annotated[StockSettingsIn, Body()]) -> StockOut:
    stock = logic.update_settings(
        store(), sku, threshold=body.low_stock_threshold, shards=body.shards, publish=publisher()
    )
    return StockOut.of(stock)


@app.post(
    "/inventory/<sku>/adjustments",
    operation_id="adjustStock",
    summary="Add or remove stock with a reason; written to the ledger",
    responses=responses(400, 401, 403, 404, 409, 422, success=201, description="Adjusted"),
    tags=["inventory"],
)
@requires(ADMIN)
def adjust_stock(
    sku: SkuPath, adjustment: Annotated[AdjustmentIn, Body()], idempotency_key: IdempotencyKey = None
) -> Response[AdjustmentOut]:
    entry, stock, applied = logic.adjust(
        store(),
        sku,
        adjustment,
        actor=caller(app).sub,
        idempotency_key=idempotency_key,
        publish=publisher(),
    )
    if not applied:
        mark_replayed()  # a retry with the key: the first adjustment, not a second one
    body = AdjustmentOut(adjustment=LedgerEntryOut.of(entry), stock=StockOut.of(stock))
    return created(body, f"/inventory/{sku}/ledger")


@app.get(
    "/inventory/<sku>/ledger",
    operation_id="listStockLedger",
    summary="A SKU's adjustments, newest first",
    responses=responses(400, 401, 403, 404, 422),
    tags=["inventory"],
)
@requires(ADMIN, SUPPORT)
def get_ledger(sku: SkuPath, cursor: Cursor = None, limit: Limit = 50) -> LedgerPage:
    entries, next_cursor = logic.ledger(store(), sku, cursor=cursor, limit=limit)
    return LedgerPage(items=[LedgerEntryOut.of(e) for e in entries], next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
