"""Workflow tasks of the order saga: ReserveStock, CommitStock, ReleaseStock.

Step Functions passes the task's input as the event and matches a failure's `Error` against the
exception's class name (`OutOfStock`, `HoldReleased`, ...). Each task is idempotent per order id by
construction: the hold item is keyed by the order id and every transition is guarded by its status,
so a retried or duplicated call answers the hold's current state without moving stock again."""

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common.contracts import HoldRef, ReserveStockInput, RestockInput, RestockResult
from common.observability import make_logger
from inventory import logic
from inventory.settings import settings
from inventory.wiring import publisher, store

logger = make_logger("inventory")


@logger.inject_lambda_context(correlation_id_path="orderId")
def reserve_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = ReserveStockInput.model_validate(event)
    window = timedelta(seconds=settings().hold_seconds)
    result = logic.reserve(store(), task, window=window, publish=publisher())
    logger.info("stock held", extra={"status": result.status, "changed": result.changed})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def commit_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    ref = HoldRef.model_validate(event)
    result = logic.commit(store(), ref.order_id, publish=publisher())
    logger.info("stock committed", extra={"changed": result.changed})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def release_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    ref = HoldRef.model_validate(event)
    result = logic.release(store(), ref.order_id, reason=ref.reason or "released", publish=publisher())
    logger.info("stock released", extra={"changed": result.changed, "reason": ref.reason})
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="orderId")
def restock_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    task = RestockInput.model_validate(event)
    restocked = logic.restock(
        store(), task.order_id, task.lines, reason=task.reason, publish=publisher(), restock_id=task.restock_id
    )
    logger.info("returned stock put back", extra={"skus": [line.sku for line in restocked]})
    return RestockResult(order_id=task.order_id, restocked=restocked).model_dump(mode="json", by_alias=True)
