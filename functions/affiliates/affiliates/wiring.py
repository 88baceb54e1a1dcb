"""The adapters every affiliates handler shares, built from the settings on first use."""

from functools import partial

from affiliates.adapters import CognitoGroups
from affiliates.ports import Publisher
from affiliates.settings import settings
from affiliates.store import AffiliatesStore
from common.events import publish


def store() -> AffiliatesStore:
    return AffiliatesStore(settings().affiliates_table)


def publisher() -> Publisher:
    return partial(publish, domain="affiliates", bus_name=settings().event_bus_name)


def groups() -> CognitoGroups:
    return CognitoGroups()
