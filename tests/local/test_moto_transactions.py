"""The local AWS copies only the items a transaction touches (`local.moto_patches.install_item_snapshots`),
and a failed transaction still changes nothing."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_patches import install_item_snapshots


@pytest.fixture
def table() -> Iterator[Any]:
    undo = install_item_snapshots()
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
            dynamodb.create_table(
                TableName="stock",
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST",
            )
            dynamodb.put_item(TableName="stock", Item={"PK": {"S": "SKU#A"}, "SK": {"S": "STOCK"}, "n": {"N": "5"}})
            yield dynamodb
    finally:
        undo()


def _items(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName="stock")["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def _take(quantity: int, hold: str) -> list[dict[str, Any]]:
    return [
        {"Put": {"TableName": "stock", "Item": {"PK": {"S": f"HOLD#{hold}"}, "SK": {"S": "META"}}}},
        {
            "Update": {
                "TableName": "stock",
                "Key": {"PK": {"S": "SKU#A"}, "SK": {"S": "STOCK"}},
                "UpdateExpression": "SET n = n - :q",
                "ConditionExpression": "n >= :q",
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
            }
        },
    ]


def test_a_transaction_that_holds_applies_every_write(table: Any) -> None:
    table.transact_write_items(TransactItems=_take(3, "o1"))
    assert [(i["PK"]["S"], i.get("n", {}).get("N")) for i in _items(table)] == [("HOLD#o1", None), ("SKU#A", "2")]


def test_a_failed_transaction_puts_back_what_it_wrote(table: Any) -> None:
    before = _items(table)
    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(TransactItems=_take(6, "o2"))  # the put succeeds first, the update fails
    assert _items(table) == before
    # An update that succeeded before a later failing check is undone too
    reversed_order = list(reversed(_take(2, "o3")))
    reversed_order.append(
        {
            "ConditionCheck": {
                "TableName": "stock",
                "Key": {"PK": {"S": "SKU#B"}, "SK": {"S": "STOCK"}},
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
    )
    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(TransactItems=reversed_order)
    assert _items(table) == before
