"""Turning a report into what people receive: CSV files, a chart (PNG) and an HTML email that reads
well in a mail client (totals first, plain tables, the chart inline, no external assets)."""

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import cast

from common.money import Money, SignedMoney
from reports.models import CampaignRow, ProductRow, SalesRow

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}
ZERO_DECIMALS = {"JPY", "KRW"}


def money_text(money: Money | SignedMoney) -> str:
    """`€1,234.50`: what a person reads (the CSV files keep minor units, for machines)."""
    symbol = SYMBOLS.get(money.currency, money.currency + " ")
    if money.currency in ZERO_DECIMALS:
        return f"{symbol}{money.amount:,}"
    sign = "-" if money.amount < 0 else ""
    return f"{sign}{symbol}{abs(money.amount) / 100:,.2f}"


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mime: str = "text/csv"


def csv_file(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def sales_csv(rows: Sequence[SalesRow]) -> bytes:
    """One line per period. The sale's split (net sales, shipping, tax) comes after `currency`, so the
    columns files had before keep their places; tax per country and rate is `tax_csv`'s."""
    header = [
        "period",
        "orders",
        "units",
        "gross",
        "discounts",
        "refunds",
        "net",
        "average_order_value",
        "currency",
        "net_sales",
        "shipping",
        "tax",
    ]
    return csv_file(
        header,
        [
            [
                r.period,
                r.orders,
                r.units,
                r.gross.amount,
                r.discounts.amount,
                r.refunds.amount,
                r.net.amount,
                r.average_order_value.amount,
                r.gross.currency,
                r.net_sales.amount,
                r.shipping.amount,
                r.tax.amount,
            ]
            for r in rows
        ],
    )


def tax_csv(rows: Sequence[SalesRow]) -> bytes:
    """Tax per period, country and rate (a file of its own: a period has any number of them). `country`
    is empty where the orders carried none; `rate` is in percent."""
    header = ["period", "country", "rate", "base", "tax", "currency"]
    return csv_file(
        header,
        [
            [r.period, t.country or "", t.rate, t.base.amount, t.tax.amount, t.tax.currency]
            for r in rows
            for t in r.taxes
        ],
    )


def products_csv(rows: Sequence[ProductRow]) -> bytes:
    header = ["product_id", "name", "category", "units", "gross", "views", "currency"]
    return csv_file(
        header, [[r.product_id, r.name, r.category, r.units, r.gross.amount, r.views, r.gross.currency] for r in rows]
    )


def campaigns_csv(rows: Sequence[CampaignRow]) -> bytes:
    header = [
        "source",
        "medium",
        "campaign",
        "sessions",
        "orders",
        "revenue",
        "refunds",
        "conversion_rate",
        "spend",
        "cost_per_order",
        "return_on_ad_spend",
        "currency",
    ]
    return csv_file(
        header,
        [
            [
                r.source,
                r.medium,
                r.campaign,
                r.sessions,
                r.orders,
                r.revenue.amount,
                r.refunds.amount,
                "" if r.conversion_rate is None else r.conversion_rate,
                r.spend.amount,
                "" if r.cost_per_order is None else r.cost_per_order.amount,
                "" if r.return_on_ad_spend is None else r.return_on_ad_spend,
                r.revenue.currency,
            ]
            for r in rows
        ],
    )


def chart_png(title: str, days: Sequence[str], net: Sequence[Money | SignedMoney], orders: Sequence[int]) -> bytes:
    """Net revenue per day as bars, orders as a line on a second axis; titled, labelled, currency on
    the axis. Imported here, not at module level: only the report runs pay for matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    currency = net[0].currency if net else "EUR"
    scale = 1 if currency in ZERO_DECIMALS else 100
    figure, revenue_axis = plt.subplots(figsize=(8, 3.6), dpi=110)
    try:
        labels = [d[5:] for d in days]  # MM-DD: the year is in the title
        revenue_axis.bar(labels, [m.amount / scale for m in net], color="#4C72B0", label="Net revenue")
        revenue_axis.set_ylabel(f"Net revenue ({currency})")
        revenue_axis.set_xlabel("Day")
        symbol = SYMBOLS.get(currency, currency + " ")
        revenue_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{symbol}{value:,.0f}"))
        revenue_axis.set_ylim(bottom=min(0, *(m.amount / scale for m in net)))
        orders_axis = revenue_axis.twinx()
        orders_axis.plot(labels, orders, color="#DD8452", marker="o", linewidth=2, label="Orders")
        orders_axis.set_ylabel("Orders")
        orders_axis.set_ylim(bottom=0, top=max([*orders, 1]) * 1.2)
        orders_axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        revenue_axis.set_title(title)
        handles = revenue_axis.get_legend_handles_labels()[0] + orders_axis.get_legend_handles_labels()[0]
        revenue_axis.legend(handles, ["Net revenue", "Orders"], loc="upper left", frameon=False)
        revenue_axis.tick_params(axis="x", labelrotation=45 if len(labels) > 10 else 0)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)


def _cell(tag: str, text: str, left: bool, extra: str = "") -> str:
    return f'<{tag} style="text-align:{"left" if left else "right"};padding:4px 8px{extra}">{html.escape(text)}</{tag}>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    """A plain table: text columns left, figures right; inline styles only (mail clients drop CSS)."""
    head = "".join(_cell("th", h, i < numeric_from, ";border-bottom:1px solid #ccc") for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(_cell("td", cell, i < numeric_from) for i, cell in enumerate(row)) + "</tr>" for row in rows
    )
    style = "border-collapse:collapse;font-family:Arial,sans-serif;font-size:14px"
    return f'<table style="{style}">' + (f"<tr>{head}</tr>" if any(header) else "") + body + "</table>"


def email_html(
    title: str,
    total: SalesRow,
    products: Sequence[ProductRow],
    campaigns: Sequence[CampaignRow],
    chart_cid: str,
    attached: Sequence[str],
    run_id: str,
    sections: str = "",
) -> str:
    """The report as HTML. Files are attached, not linked: a link that works without signing in would
    have to be signed with the run function's temporary credentials, which expire within hours (staff
    fetch them again through the API, which signs a fresh link per request). `sections` is HTML other
    modules render (the payments section), placed after the campaigns."""
    totals = _table(
        ["", ""],
        [
            ["Orders", str(total.orders)],
            ["Units", str(total.units)],
            ["Gross", money_text(total.gross)],
            ["Discounts", money_text(total.discounts)],
            ["Refunds", money_text(total.refunds)],
            ["Net revenue", money_text(total.net)],
            ["Average order", money_text(total.average_order_value)],
            ["Net sales (without tax)", money_text(total.net_sales)],
            ["Shipping charged", money_text(total.shipping)],
            ["Tax collected", money_text(total.tax)],
            ["Sessions", str(total.sessions)],
            ["Page views", str(total.page_views)],
        ],
    )
    taxes = _table(
        ["Country", "Rate", "Taxed", "Tax"],
        [[t.country or "unknown", f"{t.rate} %", money_text(t.base), money_text(t.tax)] for t in total.taxes]
        or [["No tax collected", "", "", ""]],
    )
    top = _table(
        ["Product", "Units", "Revenue"],
        [[p.name, str(p.units), money_text(p.gross)] for p in products] or [["No sales", "", ""]],
    )
    ads = _table(
        ["Campaign", "Sessions", "Orders", "Conversion", "Revenue", "Spend", "Cost per order", "Return on spend"],
        [
            [
                f"{c.source} / {c.medium} / {c.campaign}",
                str(c.sessions),
                str(c.orders),
                "-" if c.conversion_rate is None else f"{c.conversion_rate:.1%}",
                money_text(c.revenue),
                money_text(c.spend),
                "-" if c.cost_per_order is None else money_text(c.cost_per_order),
                "-" if c.return_on_ad_spend is None else f"{c.return_on_ad_spend:.2f}x",
            ]
            for c in campaigns
        ]
        or [["No campaign traffic", "", "", "", "", "", "", ""]],
    )
    files = "".join(f"<li>{html.escape(name)} (attached)</li>" for name in attached)
    again = f"/reports/runs/{html.escape(run_id)}/files/&lt;name&gt;"
    return f"""<!doctype html>
<html><body style="font-family:Arial,sans-serif;color:#222">
<h2 style="margin-bottom:4px">{html.escape(title)}</h2>
<h3>Totals</h3>{totals}
<h3>Tax by country and rate</h3>{taxes}
<h3>Revenue per day</h3><img src="cid:{chart_cid[1:-1]}" alt="Net revenue per day, with orders" width="880">
<h3>Top products</h3>{top}
<h3>Campaigns</h3>{ads}
{sections}<h3>Files</h3><ul>{files or "<li>none</li>"}</ul>
<p style="color:#777;font-size:12px">Staff can download them again from the shop's API:
<code>GET {again}</code> (admin sign-in).</p>
<p style="color:#777;font-size:12px">Amounts in {html.escape(total.gross.currency)};
refunds count on the day they were made.</p>
</body></html>"""


def email_text(title: str, total: SalesRow) -> str:
    return (
        f"{title}\n\nOrders: {total.orders}\nUnits: {total.units}\nGross: {money_text(total.gross)}\n"
        f"Discounts: {money_text(total.discounts)}\nRefunds: {money_text(total.refunds)}\n"
        f"Net revenue: {money_text(total.net)}\nNet sales (without tax): {money_text(total.net_sales)}\n"
        f"Shipping charged: {money_text(total.shipping)}\nTax collected: {money_text(total.tax)}\n"
        f"Sessions: {total.sessions}\nPage views: {total.page_views}\n\n"
        "The chart and the tables are in the HTML part; the CSV files are attached.\n"
    )


def message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    text: str,
    html_body: str,
    chart: bytes | None,
    chart_cid: str,
    attachments: Sequence[Attachment],
) -> bytes:
    """A MIME email: text and HTML alternatives, the chart inline (by Content-ID), the files attached."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail.set_content(text)
    mail.add_alternative(html_body, subtype="html")
    if chart is not None:
        html_part = cast(EmailMessage, mail.get_payload()[1])  # type: ignore[index]
        html_part.add_related(
            chart, maintype="image", subtype="png", cid=chart_cid, filename="chart.png", disposition="inline"
        )
    for attachment in attachments:
        maintype, subtype = attachment.mime.split("/", 1)
        mail.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.name)
    return bytes(mail)


def new_cid() -> str:
    return make_msgid(domain="storekeeper.reports")
