"""Every email sent through the local SES (v1 and v2) is also written to `<state dir>/outbox/` as .eml,
so a person can open what the shop would have sent. moto keeps the messages too; the files outlive it."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

log = logging.getLogger("local.outbox")


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def write(self, message_id: str, raw: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{message_id}.eml"
        with self._lock:
            path.write_bytes(raw)
        log.info("email written to %s", path)
        return path


def _simple(source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> bytes:
    message = EmailMessage()
    message["From"] = source
    for header, key in (("To", "ToAddresses"), ("Cc", "CcAddresses"), ("Bcc", "BccAddresses")):
        if destinations.get(key):
            message[header] = ", ".join(destinations[key])
    message["Subject"] = subject
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    subtype = "html" if body.lstrip().lower().startswith(("<!doctype", "<html", "<")) else "plain"
    message.set_content(body, subtype=subtype)
    return bytes(message)


def install_ses_hook(outbox: Outbox) -> None:
    """Wrap moto's SES backend (SES v2 delegates to it) so sent messages are also written out."""
    from moto.ses.models import SESBackend

    send_email, send_raw_email, send_templated_email = (
        SESBackend.send_email,
        SESBackend.send_raw_email,
        SESBackend.send_templated_email,
    )

    def hooked_send_email(self: Any, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
        message = send_email(self, source, subject, body, destinations)
        outbox.write(message.id, _simple(source, subject, body, destinations))
        return message

    def hooked_send_raw_email(self: Any, source: str, destinations: list[str], raw_data: str) -> Any:
        message = send_raw_email(self, source, destinations, raw_data)
        outbox.write(message.id, raw_data.encode())
        return message

    def hooked_send_templated_email(
        self: Any, source: str, template: str, template_data: str, destinations: dict[str, list[str]]
    ) -> Any:
        message = send_templated_email(self, source, template, template_data, destinations)
        body = f"(SES template {template})\n\n{template_data}\n"
        outbox.write(message.id, _simple(source, f"[template {template}]", body, destinations))
        return message

    SESBackend.send_email = hooked_send_email
    SESBackend.send_raw_email = hooked_send_raw_email
    SESBackend.send_templated_email = hooked_send_templated_email
