"""What reports calls outside its table: file storage, the mail service and the run function. Logic
sees them as these protocols; `reports.adapters` implements them over S3, SES and Lambda, and tests
pass fakes."""

from collections.abc import Sequence
from typing import Protocol

from reports.models import Kind


class Files(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> None:
        """Store a file under `key` (the run's record keeps the key)."""
        ...

    def link(self, key: str) -> str:
        """A URL that fetches the file without credentials for a few minutes. Made per request, never
        stored or mailed: it is signed with the caller's temporary credentials and dies with them."""
        ...


class Mailer(Protocol):
    def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        """Send a whole MIME message; answer the mail service's message id."""
        ...


class Runner(Protocol):
    def start(self, kind: Kind, period: str, run_id: str) -> None:
        """Hand a queued run to the run function and return at once; `RunNotStarted` if it could not be
        handed over just now."""
        ...
