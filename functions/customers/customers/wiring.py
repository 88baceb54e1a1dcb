"""The adapters every customers handler shares, built from the settings on first use."""

from common.stock import StockReader
from customers.adapters import CognitoLogins, LambdaCoupons, LambdaOrders, LambdaPayments, SesMailer
from customers.settings import settings
from customers.store import CustomersStore


def store() -> CustomersStore:
    return CustomersStore(settings().customers_table)


def stock() -> StockReader:
    return StockReader(settings().inventory_table)


def payments() -> LambdaPayments:
    return LambdaPayments()


def orders() -> LambdaOrders:
    return LambdaOrders()


def logins() -> CognitoLogins:
    return CognitoLogins()


def coupons() -> LambdaCoupons:
    return LambdaCoupons()


def mailer() -> SesMailer:
    return SesMailer(settings().shop_sender_email)
