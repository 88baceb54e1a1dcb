"""Emails rendered from the templates in `notifications/templates/` with Jinja: `<name>.html` with
autoescaping on (a product named `<script>` shows as text), `<name>.txt` without (plain text has nothing
to escape), `<name>.subject` as one line. Then one MIME message with both parts and a Reply-To."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from common.money import Money, SignedMoney

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}
ZERO_DECIMALS = {"JPY", "KRW"}


def money_text(money: Money | SignedMoney | None) -> str:
    """`€1,234.50`: what a person reads."""
    if money is None:
        return ""
    symbol = SYMBOLS.get(money.currency, money.currency + " ")
    if money.currency in ZERO_DECIMALS:
        return f"{symbol}{money.amount:,}"
    sign = "-" if money.amount < 0 else ""
    return f"{sign}{symbol}{abs(money.amount) / 100:,.2f}"


@cache
def _environment() -> Environment:
    """Autoescaping by the template's extension: `.html` escapes every value, `.txt` and `.subject` (plain
    text, nothing to escape) do not. StrictUndefined: a template naming a value the code does not pass
    fails the render (and its test)."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = money_text
    return environment


def render(name: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, html, text) of template `name` with `values`."""
    environment = _environment()
    subject = environment.get_template(f"{name}.subject").render(values)
    html = environment.get_template(f"{name}.html").render(values)
    text = environment.get_template(f"{name}.txt").render(values)
    return " ".join(subject.split()), html, text


def mime(
    *, sender: str, to: tuple[str, ...], reply_to: str | None, subject: str, html: str, text: str, now: datetime
) -> bytes:
    """One message with text and HTML alternatives (the text first: clients show the last they can).
    Quoted-printable keeps it 7-bit (€, ü) through every relay, and readable when opened raw."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return bytes(message)
