"""Reads of another domain's table, checked against what `template.yaml` grants: a function may read
another domain's table only when the owner publishes a read model for it (`common.contracts.READS`),
only with read actions, and its code reads through the owner's reader, never by the owner's keys.
Today that is inventory's stock, read by the catalog's product page and customers' recommendations."""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from common.contracts import READS, StockLevel
from common.stock import PROJECTION, stock_key
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
READER = {
    "InventoryTable": "StockReader",
    "CustomersTable": "ErasureReader",
    "AffiliatesTable": "AffiliateStatsReader",
}
"""The reader class each read model is read with (`common.stock`, `common.contacts`)."""
READ_POLICIES = {"DynamoDBReadPolicy"}
READ_ACTIONS = re.compile(r"^dynamodb:(GetItem|BatchGetItem|Query|Scan|DescribeTable|ConditionCheckItem)$")


@cache
def template() -> Template:
    return Template(ROOT / "template.yaml")


def owner(table: str) -> str | None:
    """The domain owning a `<Domain>Table`, when there is such a domain folder."""
    name = table.removesuffix("Table").lower()
    return name if table.endswith("Table") and (ROOT / "functions" / name).is_dir() else None


def foreign_reads() -> list[tuple[str, str, str]]:
    """(function, its domain, another domain's table it is given) for every function in the template."""
    found = []
    for logical_id, props in template().functions():
        domain = Path(str(props["CodeUri"]).rstrip("/")).name
        variables = (props.get("Environment") or {}).get("Variables") or {}
        for value in variables.values():
            table = value.get("Ref") if isinstance(value, dict) else None
            if isinstance(table, str) and owner(table) not in (None, domain):
                found.append((logical_id, domain, table))
    return found


def mentions(node: Any, table: str) -> bool:
    text = json.dumps(node)
    return f'"Ref": "{table}"' in text or f'"{table}"' in text


def test_the_template_has_foreign_reads_to_check() -> None:
    assert {table for _, _, table in foreign_reads()} >= {"InventoryTable"}


@pytest.mark.parametrize(("function", "domain", "table"), foreign_reads())
def test_another_domain_s_table_is_read_through_its_owner_s_read_model(function: str, domain: str, table: str) -> None:
    # Given a function handed another domain's table
    props = dict(template().functions())[function]

    # Then the owner publishes a read model for that table
    assert table in READS, f"{function} ({domain}) is given {table}, which has no read model in common.contracts.READS"

    # And every policy that names the table only reads
    for policy in props.get("Policies") or []:
        if not mentions(policy, table):
            continue
        if isinstance(policy, dict) and set(policy) <= READ_POLICIES:
            continue
        statements = policy.get("Statement", []) if isinstance(policy, dict) else []
        actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
        assert statements and all(READ_ACTIONS.match(a) for a in actions), f"{function} may write {table}: {policy}"

    # And the domain's code reads it with the owner's reader
    sources = "\n".join(p.read_text() for p in (ROOT / "functions" / domain).rglob("*.py"))
    assert READER[table] in sources, f"{domain} is given {table} but never reads it with {READER[table]}"


def test_the_reader_projects_exactly_the_read_model_s_fields() -> None:
    assert sorted(PROJECTION.split(", ")) == sorted(StockLevel.model_fields)
    assert READS["InventoryTable"] is StockLevel
    assert stock_key("TEE-S") == {"PK": {"S": "SKU#TEE-S"}, "SK": {"S": "STOCK"}}


def test_no_reader_domain_knows_inventory_s_stock_item_key() -> None:
    """The key of a stock item is written down once, in `common.stock`; a reader that spelt it out
    itself (as the catalog's and customers' copies did) would drift silently when inventory changes it."""
    offenders = []
    for _, domain, table in foreign_reads():
        for path in (ROOT / "functions" / domain).rglob("*.py"):
            if table == "InventoryTable" and re.search(r"""["']STOCK["']""", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"inventory's stock key spelt out outside common.stock: {sorted(set(offenders))}"
