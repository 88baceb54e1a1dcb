"""The beacon's hand-over to affiliates: a visit that arrived with an affiliate's code (`ref`) is a click,
which affiliates records (the start of the attribution window, the day's click count). Reports keeps
nothing of it: the code means nothing here, and affiliates owns its figures."""

from datetime import datetime
from zoneinfo import ZoneInfo

from common.contracts import AffiliateClicked
from reports.logic.aggregates import day_of
from reports.models import VisitIn


def click(visit: VisitIn, now: datetime, zone: ZoneInfo) -> tuple[str, AffiliateClicked] | None:
    """The click a visit with a `ref` hands over, with its event id: one per visitor, code and day, so a
    reloaded landing page (or a retried beacon) is one click however often it is delivered. Without a
    visitor id the session stands for the visitor (it then cannot be tied to a later session's order)."""
    if not visit.ref:
        return None
    code = visit.ref.strip().upper()
    visitor = visit.visitor_id or visit.session_id
    day = day_of(now, zone).isoformat()
    clicked = AffiliateClicked(code=code, visitor_id=visitor, session_id=visit.session_id, clicked_at=now.isoformat())
    return f"AffiliateClicked#{code}#{visitor}#{day}", clicked
