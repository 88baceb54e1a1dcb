"""The customers table, and the only package that talks to it: one module per aggregate (see
`customers.store.base` for the items of each), each a `common.store.TableStore` of the same table.

`CustomersStore` is all of them at once, for the handlers that touch several aggregates (an event
changes a customer's history and the counters; erasure and the export read every aggregate)."""

from customers.store.addresses import AddressStore, LimitReached
from customers.store.base import MAX_TRANSACTION_ACTIONS, AlreadyApplied, Contended, CustomersTable, customer_pk
from customers.store.counters import (
    ALL_CATEGORIES,
    COUNTED,
    Counter,
    CounterStore,
    bestseller_partition,
    copurchase_partition,
    ranked,
)
from customers.store.deals import DealStore
from customers.store.erasure import ErasureStore
from customers.store.history import HistoryStore
from customers.store.markers import MarkerStore
from customers.store.notes import NoteStore
from customers.store.products import ProductStore
from customers.store.profiles import ProfileStore
from customers.store.search import Hit, SearchStore


class CustomersStore(
    ProfileStore,
    AddressStore,
    HistoryStore,
    CounterStore,
    ProductStore,
    NoteStore,
    DealStore,
    MarkerStore,
    SearchStore,
    ErasureStore,
):
    """Every aggregate of the customers table."""


__all__ = [
    "ALL_CATEGORIES",
    "COUNTED",
    "MAX_TRANSACTION_ACTIONS",
    "AddressStore",
    "AlreadyApplied",
    "Contended",
    "Counter",
    "CounterStore",
    "CustomersStore",
    "CustomersTable",
    "DealStore",
    "ErasureStore",
    "HistoryStore",
    "Hit",
    "LimitReached",
    "MarkerStore",
    "NoteStore",
    "ProductStore",
    "ProfileStore",
    "SearchStore",
    "bestseller_partition",
    "copurchase_partition",
    "customer_pk",
    "ranked",
]
