"""Order use cases, one module per use case (or tight group of them). No HTTP, no Lambda events, no
boto3: each takes the one `Ports` object (`orders.ports`, built by `orders.wiring.ports`) first, so the
rules read in one place and tests run them against fakes of our own ports. Handlers call them as
`logic.checkout(ports(), ...)`."""

from orders.logic.attention import (
    clear_attention,
    flag,
    orders_needing_attention,
    redrive,
    resume_point,
    workflow_failure,
)
from orders.logic.cancel import cancel
from orders.logic.checkout import checkout, execution_input
from orders.logic.coupons import Offer, create_coupon, end_coupon, get_coupon, list_coupons, my_offers
from orders.logic.erasure import ERASED, Anonymised, anonymise_customer, redacted, still_to_ship
from orders.logic.quote import quote
from orders.logic.rates import (
    archive_shipping_method,
    create_shipping_method,
    get_shipping_method,
    list_shipping_methods,
    list_tax_rates,
    put_tax_rates,
    replace_shipping_method,
)
from orders.logic.reads import find_orders, my_orders, order_states, orders_by_status, readable
from orders.logic.refund import refund
from orders.logic.shared import digest, is_order_id, order_event
from orders.logic.ship import await_shipment, ship
from orders.logic.transition import EVENT_OF, transition

__all__ = [
    "ERASED",
    "EVENT_OF",
    "Anonymised",
    "Offer",
    "anonymise_customer",
    "archive_shipping_method",
    "await_shipment",
    "cancel",
    "checkout",
    "clear_attention",
    "create_coupon",
    "create_shipping_method",
    "digest",
    "end_coupon",
    "execution_input",
    "find_orders",
    "flag",
    "get_coupon",
    "get_shipping_method",
    "is_order_id",
    "list_coupons",
    "list_shipping_methods",
    "list_tax_rates",
    "my_offers",
    "my_orders",
    "order_event",
    "order_states",
    "orders_by_status",
    "orders_needing_attention",
    "put_tax_rates",
    "quote",
    "readable",
    "redacted",
    "redrive",
    "refund",
    "replace_shipping_method",
    "resume_point",
    "ship",
    "still_to_ship",
    "transition",
    "workflow_failure",
]
