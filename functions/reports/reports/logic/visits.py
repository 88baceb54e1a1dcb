"""The storefront's visits, the other half of "which ads work": each session counts once per campaign
and per product and day, without personal data (a random session id, a path, where it came from)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from reports.logic.aggregates import campaign_key, day_of
from reports.models import Increment, VisitIn
from reports.store import ReportsStore


def count(store: ReportsStore, visit: VisitIn, now: datetime, zone: ZoneInfo) -> bool:
    """Count the visit's session for its campaign and its product, each once a day; False if both were
    counted already (or the visit names neither)."""
    day = day_of(now, zone).isoformat()
    counted = False
    key = campaign_key(visit.source, visit.medium, visit.campaign)
    if key:
        marker = f"VISIT#{day}#{visit.session_id}#C#{key}"
        counted |= store.count_once(marker, Increment(f"DAY#{day}", f"CAMPAIGN#{key}", {"sessions": 1}))
    if visit.product_id:
        marker = f"VISIT#{day}#{visit.session_id}#P#{visit.product_id}"
        counted |= store.count_once(marker, Increment(f"DAY#{day}", f"PRODUCT#{visit.product_id}", {"views": 1}))
    return counted
