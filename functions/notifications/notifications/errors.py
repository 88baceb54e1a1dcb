"""Notifications' errors. Raised out of the handler, they fail the invocation, so Lambda retries it (and
the dead-letter queue keeps it after the retries)."""


class NoticeInFlight(Exception):
    """Another invocation claimed this email moments ago and has not marked it sent: it may be sending it
    now. Retrying later finds it sent, or the claim stale (its invocation died) and takes it over."""

    def __init__(self, key: str) -> None:
        super().__init__(f"email {key} is being sent by another invocation")
        self.key = key
