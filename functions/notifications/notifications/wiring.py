"""The adapters the notifications handler uses, built from the settings on first use."""

from datetime import UTC, datetime

from common.contacts import ErasureReader
from notifications.adapters import SesMailer
from notifications.logic.compose import Shop
from notifications.logic.deliver import Ports
from notifications.settings import settings
from notifications.store import NotificationsStore


def ports() -> Ports:
    config = settings()
    return Ports(
        claims=NotificationsStore(config.notifications_table, config.claim_seconds),
        mailer=SesMailer(),
        erasures=ErasureReader(config.customers_table),
        sender=config.shop_sender_email,
        shop=Shop(url=config.shop_url, support_email=config.support_email),
        staff=config.staff,
        clock=lambda: datetime.now(UTC),
    )
