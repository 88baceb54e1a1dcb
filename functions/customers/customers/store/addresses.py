"""The customer's addresses (`CUSTOMER#<sub> / ADDRESS#<addressId>`), at most `limit`, counted on the
profile in the same transaction as each one is added or deleted."""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.dynamo import TransactionCancelled
from common.store import iso, key
from customers.models import Address
from customers.store.base import PROFILE, CustomersTable, busy, customer_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class LimitReached(Exception):
    """The customer keeps the most addresses allowed."""


def address_of(values: Mapping[str, Any]) -> Address:
    return Address(
        address_id=values["addressId"],
        name=values["name"],
        line1=values["line1"],
        line2=values.get("line2"),
        city=values["city"],
        postal_code=values["postalCode"],
        country=values["country"],
        created_at=datetime.fromisoformat(values["createdAt"]),
    )


def address_item(sub: str, address: Address) -> dict[str, Any]:
    return {
        "PK": customer_pk(sub),
        "SK": f"ADDRESS#{address.address_id}",
        "addressId": address.address_id,
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postalCode": address.postal_code,
        "country": address.country,
        "createdAt": iso(address.created_at),
    }


class AddressStore(CustomersTable):
    def list_addresses(self, sub: str, limit: int) -> list[Address]:
        return [address_of(v) for v in self.query_prefix(customer_pk(sub), "ADDRESS#", limit=limit)]

    def get_address(self, sub: str, address_id: str) -> Address | None:
        values = self.get(customer_pk(sub), f"ADDRESS#{address_id}")
        return address_of(values) if values else None

    def add_address(self, sub: str, address: Address, *, make_default: bool, limit: int) -> None:
        """Put the address and count it on the profile, all or nothing; the first address (or one asked
        to be) becomes the default. Raises `LimitReached` when the customer keeps `limit` already."""
        default = ":id" if make_default else "if_not_exists(defaultAddressId, :id)"
        actions: list[TransactWriteItemTypeDef] = [
            self.put_new(address_item(sub, address)),
            self.update_action(
                customer_pk(sub),
                PROFILE,
                f"SET customerId = :sub, defaultAddressId = {default} ADD addressCount :one",
                condition="attribute_not_exists(addressCount) OR addressCount < :limit",
                values={":sub": sub, ":id": address.address_id, ":one": 1, ":limit": limit},
            ),
        ]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed():
                raise LimitReached from cancelled
            raise busy() from cancelled

    def delete_address(self, sub: str, address_id: str) -> bool:
        """Delete one of the customer's addresses; False if they have no such address."""
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key(customer_pk(sub), f"ADDRESS#{address_id}"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": key(customer_pk(sub), PROFILE),
                    "UpdateExpression": "ADD addressCount :minus",
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                }
            },
        ]
        try:
            self.transact(actions)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise busy() from cancelled
        return True

    def replace_default(self, sub: str, was: str, now_default: str | None) -> None:
        """Move the default away from a deleted address, unless someone moved it already."""
        update = "SET defaultAddressId = :next" if now_default else "REMOVE defaultAddressId"
        values: dict[str, Any] = {":was": was} | ({":next": now_default} if now_default else {})
        self.update_if(customer_pk(sub), PROFILE, update, condition="defaultAddressId = :was", values=values)
