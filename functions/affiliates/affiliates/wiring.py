"""The adapters every affiliates handler shares, built from the settings on first use."""

from functools import partial

from affiliates.adapters import CognitoGroups
from affiliates.ports import Publisher
from affiliates.settings import settings
from affiliates.store import AffiliatesStore
from common.affiliate_stats import AffiliateStatsReader
from common.events import publish


def store() -> AffiliatesStore:
    config = settings()
    return AffiliatesStore(config.affiliates_table, zone=config.zone)


def publisher() -> Publisher:
    return partial(publish, domain="affiliates", bus_name=settings().event_bus_name)


def groups() -> CognitoGroups:
    return CognitoGroups()


def stats_reader() -> AffiliateStatsReader:
    return AffiliateStatsReader(settings().affiliates_table)
