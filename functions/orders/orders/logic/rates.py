"""Pricing configuration as staff keep it: shipping methods (created, replaced, archived) and tax rates
by country. What they cost an order is decided by `common.pricing`."""

from common.ids import new_id
from common.pricing import ShippingMethod, TaxRates
from orders.errors import ShippingMethodCurrency, ShippingMethodNotFound
from orders.ports import Ports
from orders.shipping import ShippingMethodIn

SHIPPING_METHOD_ID_PREFIX = "sm"


def create_shipping_method(ports: Ports, request: ShippingMethodIn, currency: str) -> ShippingMethod:
    """A new method, in the shop's currency (a price in another one could never be charged: 422)."""
    _check_currency(request, currency)
    method = request.method(new_id(SHIPPING_METHOD_ID_PREFIX))
    ports.store.put_shipping_method(method)
    return method


def replace_shipping_method(
    ports: Ports, shipping_method_id: str, request: ShippingMethodIn, currency: str
) -> ShippingMethod:
    """The method replaced by `request` (active again if it was archived); `ShippingMethodNotFound`."""
    _check_currency(request, currency)
    if ports.store.shipping_method(shipping_method_id) is None:
        raise ShippingMethodNotFound(shipping_method_id)
    method = request.method(shipping_method_id)
    ports.store.put_shipping_method(method)
    return method


def get_shipping_method(ports: Ports, shipping_method_id: str) -> ShippingMethod:
    """The method, archived or not (staff see what orders name); `ShippingMethodNotFound`."""
    method = ports.store.shipping_method(shipping_method_id)
    if method is None:
        raise ShippingMethodNotFound(shipping_method_id)
    return method


def archive_shipping_method(ports: Ports, shipping_method_id: str) -> None:
    """Archive the method: it serves nobody from now on, while orders priced with it still name it.
    Archiving it again is a no-op (a retried DELETE)."""
    method = ports.store.shipping_method(shipping_method_id)
    if method is None:
        raise ShippingMethodNotFound(shipping_method_id)
    if not method.archived:
        ports.store.put_shipping_method(method.model_copy(update={"archived": True}))


def list_shipping_methods(ports: Ports, country: str | None) -> list[ShippingMethod]:
    """The active methods serving `country`, or every active method without one."""
    if country is not None:
        return ports.store.shipping_methods(country)
    return [m for m in ports.store.all_shipping_methods() if not m.archived]


def put_tax_rates(ports: Ports, rates: TaxRates) -> TaxRates:
    ports.store.put_tax_rates(rates)
    return rates


def list_tax_rates(ports: Ports) -> list[TaxRates]:
    return ports.store.all_tax_rates()


def _check_currency(request: ShippingMethodIn, currency: str) -> None:
    if request.price.currency != currency:
        raise ShippingMethodCurrency(request.price.currency, currency)
