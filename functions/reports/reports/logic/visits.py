"""The storefront's visits, the other half of "which ads work": every beacon is a page view, and each
session counts once a day in the shop's traffic, once per path, campaign and product — without personal
data (a random session id, a path, where it came from).

Items (partition / sort), besides the markers in `reports.store`:
- `DAY#<date> / TRAFFIC`: sessions, views (every beacon of the day)
- `DAY#<date> / PATH#<path>`: sessions, views
- `DAY#<date> / CAMPAIGN#<key>`: sessions; `PRODUCT#<id>`: views (sessions); see `reports.logic.aggregates`

Sessions are counted once per session id (a marker written in the same transaction as the count, so a
repeated or retried beacon never counts its session twice). Page views count every beacon: the beacon
has no id of its own, and a reload is a page view too."""

from datetime import datetime
from zoneinfo import ZoneInfo

from reports.logic.aggregates import campaign_key, day_of
from reports.models import Increment, VisitIn
from reports.store import ReportsStore


def count(store: ReportsStore, visit: VisitIn, now: datetime, zone: ZoneInfo) -> bool:
    """Count the beacon's page view, and its session for the day, its path, its campaign and its product,
    each once; False if the session was counted for all of them already (the page view still counts)."""
    day = day_of(now, zone).isoformat()
    partition = f"DAY#{day}"
    marker = f"VISIT#{day}#{visit.session_id}"
    page = f"PATH#{visit.path}"
    # The common case, a page this session had not seen today, is one transaction (two on its first page).
    counted = store.count_once(
        f"{marker}#V#{visit.path}",
        Increment(partition, page, {"sessions": 1, "views": 1}),
        Increment(partition, "TRAFFIC", {"views": 1}),
    )
    if counted:
        counted |= store.count_once(f"{marker}#S", Increment(partition, "TRAFFIC", {"sessions": 1}))
    else:
        store.add([Increment(partition, page, {"views": 1}), Increment(partition, "TRAFFIC", {"views": 1})])
    key = campaign_key(visit.source, visit.medium, visit.campaign)
    if key:
        counted |= store.count_once(f"{marker}#C#{key}", Increment(partition, f"CAMPAIGN#{key}", {"sessions": 1}))
    if visit.product_id:
        product = Increment(partition, f"PRODUCT#{visit.product_id}", {"views": 1})
        counted |= store.count_once(f"{marker}#P#{visit.product_id}", product)
    return counted
