"""Affiliates' domain errors; `common.http` maps their base classes to statuses."""

from common.errors import Conflict, NotFound, ValidationFailed


class AlreadyApplied(Conflict):
    code = "already_applied"

    def __init__(self, affiliate_id: str) -> None:
        super().__init__("you have applied already: one application per user", details={"affiliateId": affiliate_id})


class AffiliateNotFound(NotFound):
    code = "affiliate_not_found"

    def __init__(self, affiliate_id: str | None = None) -> None:
        super().__init__(f"no affiliate {affiliate_id}" if affiliate_id else "you have no affiliate account")


class AlreadyApproved(Conflict):
    """Approval of an approved affiliate with another rate: rates are fixed at approval, so that every
    commission of an order is computed the same however late its events arrive."""

    code = "already_approved"

    def __init__(self, affiliate_id: str, rate: float) -> None:
        super().__init__(
            f"affiliate {affiliate_id} is approved already, at a rate of {rate}",
            details={"affiliateId": affiliate_id, "commissionRate": rate},
        )


class BadRange(ValidationFailed):
    """Stats' `from`/`to` that do not make a period they may cover (the base class's code, as reports')."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details=[{"field": "query.to", "message": message, "type": "range"}])
