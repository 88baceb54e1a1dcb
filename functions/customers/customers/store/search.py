"""Support's search (`GET /admin/customers?q=`): `CUSTOMER#<sub> / SEARCH#<term> {customerId, email, name}`,
one item per term a customer can be found by (their email, their whole name, each later word of it),
all lowercased. Each carries `GSI2PK=SEARCH#<first two letters of the term>, GSI2SK=<term>#<sub>`, so a
prefix of at least two letters is one query of one GSI2 partition with `begins_with(GSI2SK, q)`: no
scan, however many customers there are. GSI2 is keys only (it ranks counters too), so a page of hits
is then read by key for the email and name to show.

The items live under the customer's own key, so erasure deletes them with everything else. They are
written in one transaction with a check that the customer was not erased (`ERASED` is written before
erasure deletes anything), so a profile write or an order event racing erasure cannot bring them back."""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.dynamo import Key, Page, TransactionCancelled, check_start_key, query_page, to_item
from common.store import key
from customers.store.base import ERASED, CustomersTable, busy, customer_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

SEARCH = "SEARCH#"
INDEX = "GSI2"
MIN_TERM = 2
MAX_NAME_WORDS = 5
_SPACES = re.compile(r"\s+")


def normalised(text: str) -> str:
    """How terms and queries compare: lowercased (casefolded), spaces collapsed, ends stripped."""
    return _SPACES.sub(" ", text).strip().casefold()


def bucket(term: str) -> str:
    return f"{SEARCH}{term[:MIN_TERM]}"


def terms(email: str | None, name: str | None) -> list[str]:
    """What a customer is found by: the email, the whole name, and each later word of the name (so "smi"
    finds Alice Smith), each at least two letters; never a middle substring."""
    found: list[str] = []
    if email:
        found.append(normalised(email))
    if name:
        whole = normalised(name)
        found.append(whole)
        found += whole.split(" ")[1:MAX_NAME_WORDS]
    return [t for t in dict.fromkeys(found) if len(t) >= MIN_TERM]


@dataclass(frozen=True)
class Hit:
    customer_id: str
    email: str | None
    name: str | None


def _item(sub: str, term: str, email: str | None, name: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": customer_pk(sub),
        "SK": f"{SEARCH}{term}",
        "customerId": sub,
        "GSI2PK": bucket(term),
        "GSI2SK": f"{term}#{sub}",
    }
    return item | {k: v for k, v in (("email", email), ("name", name)) if v}


class SearchStore(CustomersTable):
    def index_customer(self, sub: str, *, email: str | None, name: str | None) -> bool:
        """Make the customer's search items those of `email` and `name`: stale terms go, new ones come,
        the others are rewritten only if the email or name they show changed. False (and nothing written)
        if the customer was erased."""
        wanted = {f"{SEARCH}{t}": _item(sub, t, email, name) for t in terms(email, name)}
        current = {v["SK"]: v for v in self.query_all(customer_pk(sub), SEARCH)}
        actions: list[TransactWriteItemTypeDef] = [
            {"Delete": {"TableName": self.table, "Key": key(customer_pk(sub), sk)}}
            for sk in current
            if sk not in wanted
        ]
        for sk, item in wanted.items():
            old = current.get(sk)
            if old is None or old.get("email") != item.get("email") or old.get("name") != item.get("name"):
                actions.append({"Put": {"TableName": self.table, "Item": to_item(item)}})
        if not actions:
            return True
        not_erased: TransactWriteItemTypeDef = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": key(customer_pk(sub), ERASED),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        try:
            self.transact([not_erased, *actions])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            raise busy() from cancelled
        return True

    def search(self, query: str, *, start_key: Key | None, limit: int) -> Page[Hit]:
        """Customers with a term starting with `query` (normalised, at least two letters), in term order,
        one page of index entries at a time. A customer found by two terms (email and name both start
        with `query`) is shown once per page."""
        partition = bucket(query)
        check_start_key(start_key, ("PK", "SK", f"{INDEX}PK", f"{INDEX}SK"), f"{INDEX}PK", partition)
        request = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "GSI2PK = :pk AND begins_with(GSI2SK, :q)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":q": {"S": query}},
            "Limit": limit,
        }
        page = query_page(self.client, request, start_key)
        keys = [key(entry["PK"], entry["SK"]) for entry in page.items]
        found = {(v["PK"], v["SK"]): v for v in self.batch_read(keys)}
        hits: dict[str, Hit] = {}
        for entry in page.items:
            values = found.get((entry["PK"], entry["SK"]))  # None: deleted since the index answered
            if values is not None and values["customerId"] not in hits:
                hits[values["customerId"]] = Hit(values["customerId"], values.get("email"), values.get("name"))
        return Page(list(hits.values()), page.next_key)
