"""Reports' domain errors; `common.http` maps their base classes to statuses. Their codes are the base
classes' (`not_found`, `validation_failed`, `service_unavailable`): what clients have always seen."""

from common.errors import NotFound, ServiceUnavailable, ValidationFailed


class RunNotFound(NotFound):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no report run {run_id}")


class RunFileNotFound(NotFound):
    def __init__(self, run_id: str, name: str) -> None:
        super().__init__(f"no file {name!r} in report run {run_id}")


class BadPeriod(ValidationFailed):
    """A period that is not one of its kind's (a weekly report's is a Monday; statements' a month)."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message, details=[{"field": "body.period", "message": expected, "type": "period"}])


class BadRange(ValidationFailed):
    """A report's `from`/`to` that do not make a period it may cover."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details=[{"field": "query.to", "message": message, "type": "range"}])


class ReportsBusy(ServiceUnavailable):
    """DynamoDB stayed busy (unprocessed reads, or a transaction that conflicted after its retries)."""

    def __init__(self, code: str | None = None) -> None:
        super().__init__("reports are busy; retry", code=code)


class RunNotStarted(ServiceUnavailable):
    """Lambda would not take the queued run just now (throttled, or no answer in time)."""

    def __init__(self) -> None:
        super().__init__("report runs cannot be started just now; retry")


class BadSpend(ValidationFailed):
    """Ad spend the reports cannot add up: another currency than the shop's, or no campaign to name."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, details=[{"field": field, "message": message, "type": "spend"}])
