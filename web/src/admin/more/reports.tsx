/**
 * `#/reports` (admin): sales over time (net revenue bars, orders as a line), top products, campaigns
 * with their ad spend (and a form to record a day's spend), payments due, and "run a report now":
 * queue a run, follow it until it is done, and download its files.
 *
 * A file is served by the API as a redirect to a short-lived signed link, and the API wants the
 * bearer token, which a plain `<a href>` cannot send: the file is fetched with the token (the
 * browser follows the redirect) and handed to the user as a download of the fetched bytes.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { errorMessage } from "../../shared/api";
import { ErrorNote, Loading, money, useLoad } from "../../shared/ui";
import type { PageProps } from "../core/page";
import { must, parseMinor, useIdempotencyKey, when } from "../core/util";
import { BarChart } from "./chart";
import { type Schemas, isoDay } from "./load";

type Api = PageProps["api"];
type Granularity = Schemas["ReportGranularity"];
type Run = Schemas["RunOut"];

/** How often and how long "run a report now" asks for the run's progress. */
const POLL_MS = 1500;
const POLL_DEADLINE_MS = 3 * 60_000;

function signed(m: { amount: number; currency: string }): string {
  return m.amount < 0 ? `−${money({ amount: -m.amount, currency: m.currency })}` : money(m);
}

export function ReportsPage({ api }: PageProps) {
  const [from, setFrom] = useState(isoDay(29));
  const [to, setTo] = useState(isoDay(0));
  const [granularity, setGranularity] = useState<Granularity>("day");
  const period = { from, to };
  return (
    <section aria-labelledby="reports-title">
      <h1 id="reports-title">Reports</h1>
      <form class="row" onSubmit={(e) => e.preventDefault()} aria-label="Report period">
        <label>
          From
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} data-testid="report-from" />
        </label>
        <label>
          To
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} data-testid="report-to" />
        </label>
        <label>
          Per
          <select
            value={granularity}
            onChange={(e) => setGranularity(e.currentTarget.value as Granularity)}
            data-testid="report-granularity"
          >
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
      </form>
      <Sales api={api} period={period} granularity={granularity} />
      <TopProducts api={api} period={period} />
      <Campaigns api={api} period={period} />
      <Payments api={api} period={period} />
      <RunNow api={api} />
    </section>
  );
}

interface Period {
  from: string;
  to: string;
}

function Sales({ api, period, granularity }: { api: Api; period: Period; granularity: Granularity }) {
  const report = useLoad(
    () => must(api.GET("/reports/sales", { params: { query: { ...period, granularity } } })),
    [period.from, period.to, granularity],
  );
  const r = report.data;
  const currency = r?.total.gross.currency ?? "EUR";
  return (
    <section aria-labelledby="sales-title" data-testid="sales-report">
      <h2 id="sales-title">Sales over time</h2>
      {report.loading && !r ? <Loading /> : null}
      <ErrorNote error={report.error} />
      {r ? (
        <>
          <BarChart
            testId="sales-chart"
            title="Net revenue"
            lineTitle="orders"
            format={(v) => signed({ amount: Math.round(v), currency })}
            bars={r.rows.map((row) => ({ label: row.period, value: row.net.amount, line: row.orders }))}
          />
          <p data-testid="sales-total">
            {r.total.orders} orders, {r.total.units} units · gross {money(r.total.gross)} · discounts{" "}
            {money(r.total.discounts)} · refunds {money(r.total.refunds)} · net <strong>{signed(r.total.net)}</strong>
            {r.total.sessions !== undefined ? ` · ${r.total.sessions} ${r.total.sessions === 1 ? "session" : "sessions"}` : ""}
          </p>
          <details>
            <summary>Figures per {r.granularity}</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col">Orders</th>
                  <th scope="col">Units</th>
                  <th scope="col">Gross</th>
                  <th scope="col">Discounts</th>
                  <th scope="col">Refunds</th>
                  <th scope="col">Net</th>
                  <th scope="col">Tax</th>
                  <th scope="col">Shipping</th>
                </tr>
              </thead>
              <tbody>
                {r.rows.map((row) => (
                  <tr key={row.period}>
                    <td>{row.period}</td>
                    <td>{row.orders}</td>
                    <td>{row.units}</td>
                    <td>{money(row.gross)}</td>
                    <td>{money(row.discounts)}</td>
                    <td>{money(row.refunds)}</td>
                    <td>{signed(row.net)}</td>
                    <td>{signed(row.tax)}</td>
                    <td>{signed(row.shipping)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : null}
    </section>
  );
}

function TopProducts({ api, period }: { api: Api; period: Period }) {
  const report = useLoad(
    () => must(api.GET("/reports/top-products", { params: { query: { ...period, limit: 10 } } })),
    [period.from, period.to],
  );
  const items = report.data?.items ?? [];
  const currency = items[0]?.gross.currency ?? "EUR";
  return (
    <section aria-labelledby="top-title" data-testid="top-products">
      <h2 id="top-title">Top products</h2>
      {report.loading && !report.data ? <Loading /> : null}
      <ErrorNote error={report.error} />
      {report.data && items.length === 0 ? <p>Nothing sold in this period.</p> : null}
      {items.length > 0 ? (
        <>
          <BarChart
            testId="top-chart"
            title="Gross sales by product"
            format={(v) => money({ amount: Math.round(v), currency })}
            bars={items.map((p) => ({ label: p.name, value: p.gross.amount }))}
          />
          <table>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Category</th>
                <th scope="col">Units</th>
                <th scope="col">Gross</th>
                <th scope="col">Views</th>
                <th scope="col">Units per view</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.productId}>
                  <td>{p.name}</td>
                  <td>{p.category}</td>
                  <td>{p.units}</td>
                  <td>{money(p.gross)}</td>
                  <td>{p.views}</td>
                  <td>{p.conversion === null ? "—" : p.conversion.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

function Campaigns({ api, period }: { api: Api; period: Period }) {
  const report = useLoad(
    () => must(api.GET("/reports/campaigns", { params: { query: period } })),
    [period.from, period.to],
  );
  const items = report.data?.items ?? [];
  return (
    <section aria-labelledby="campaigns-title" data-testid="campaigns-report">
      <h2 id="campaigns-title">Campaigns</h2>
      {report.loading && !report.data ? <Loading /> : null}
      <ErrorNote error={report.error} />
      {report.data && items.length === 0 ? <p>No visits or orders with campaign labels in this period.</p> : null}
      {items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Campaign</th>
              <th scope="col">Source / medium</th>
              <th scope="col">Sessions</th>
              <th scope="col">Orders</th>
              <th scope="col">Conversion</th>
              <th scope="col">Revenue</th>
              <th scope="col">Spend</th>
              <th scope="col">Cost per order</th>
              <th scope="col">Return on ad spend</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={`${c.campaign}|${c.source}|${c.medium}`}>
                <td>{c.campaign}</td>
                <td>
                  {c.source} / {c.medium}
                </td>
                <td>{c.sessions}</td>
                <td>{c.orders}</td>
                <td>{c.conversionRate === null ? "—" : `${(c.conversionRate * 100).toFixed(1)} %`}</td>
                <td>{money(c.revenue)}</td>
                <td>{money(c.spend)}</td>
                <td>{c.costPerOrder ? money(c.costPerOrder) : "—"}</td>
                <td>{c.returnOnAdSpend === null ? "—" : `${c.returnOnAdSpend.toFixed(2)}×`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <SpendForm api={api} onSaved={report.reload} currency={items[0]?.revenue.currency ?? "EUR"} />
    </section>
  );
}

function SpendForm({ api, onSaved, currency }: { api: Api; onSaved: () => void; currency: string }) {
  const [campaign, setCampaign] = useState("");
  const [date, setDate] = useState(isoDay(0));
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const minor = parseMinor(amount);
    if (minor === null) {
      setError(new Error("The spend is an amount such as 120.00."));
      return;
    }
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const out = await must(
        api.PUT("/reports/campaigns/{campaign}/spend", {
          params: { path: { campaign: campaign.trim() } },
          body: { date, amount: { amount: minor, currency } },
        }),
      );
      setSaved(`${out.campaign} spent ${money(out.amount)} on ${out.date}.`);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} class="row" data-testid="spend-form">
      <label>
        Campaign
        <input required maxLength={60} value={campaign} onInput={(e) => setCampaign(e.currentTarget.value)} data-testid="spend-campaign" />
      </label>
      <label>
        Day
        <input required type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
      </label>
      <label>
        Spend ({currency})
        <input required inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} data-testid="spend-amount" />
      </label>
      <button type="submit" disabled={busy} data-testid="spend-save">
        Record spend
      </button>
      <ErrorNote error={error} />
      {saved ? <p class="ok" role="status">{saved}</p> : null}
    </form>
  );
}

function Payments({ api, period }: { api: Api; period: Period }) {
  const report = useLoad(
    () => must(api.GET("/reports/payments", { params: { query: period } })),
    [period.from, period.to],
  );
  const r = report.data;
  const days = r?.days.filter((d) => d.payments > 0) ?? [];
  return (
    <section aria-labelledby="payments-title" data-testid="payments-report">
      <h2 id="payments-title">Payments due</h2>
      {report.loading && !r ? <Loading /> : null}
      <ErrorNote error={report.error} />
      {r ? (
        <>
          <p data-testid="payments-total">
            Gross {money(r.total.gross)} · Stripe fees {money(r.total.fee)} · refunds {money(r.total.refunds)} · disputes lost{" "}
            {money(r.total.disputeLost)} · dispute fees {money(r.total.disputeFee)} · commissions {signed(r.total.commission)} · the
            shop keeps <strong>{signed(r.total.net)}</strong>
            {r.total.feeUnknown ? ` (${r.total.feeUnknown} payment(s) or dispute(s) without a known fee)` : ""}
          </p>
          {days.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Payments</th>
                  <th scope="col">Gross</th>
                  <th scope="col">Fees</th>
                  <th scope="col">Refunds</th>
                  <th scope="col">Disputed</th>
                  <th scope="col">Commissions</th>
                  <th scope="col">Net</th>
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.day}>
                    <td>{d.day}</td>
                    <td>{d.payments}</td>
                    <td>{money(d.gross)}</td>
                    <td>{money(d.fee)}</td>
                    <td>{money(d.refunds)}</td>
                    <td>{money(d.disputed)}</td>
                    <td>{signed(d.commission)}</td>
                    <td>{signed(d.net)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>No money moved in this period.</p>
          )}
          <h3>Commissions due to affiliates</h3>
          {r.commissionsDue.length === 0 ? <p>None.</p> : null}
          {r.commissionsDue.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Affiliate</th>
                  <th scope="col">Earned</th>
                  <th scope="col">Reversed</th>
                  <th scope="col">Paid</th>
                  <th scope="col">Due</th>
                </tr>
              </thead>
              <tbody>
                {r.commissionsDue.map((a) => (
                  <tr key={a.affiliateId}>
                    <td>{a.affiliateId}</td>
                    <td>{money(a.earned)}</td>
                    <td>{money(a.reversed)}</td>
                    <td>{money(a.paid)}</td>
                    <td>{money(a.due)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

/** `/reports/runs/run_x/files/daily.csv` (the run's `url`, an API path) to its path parameters. */
export function fileParams(url: string): { runId: string; name: string } | null {
  const match = /\/reports\/runs\/(run_[0-9a-z]{26})\/files\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})$/.exec(url);
  const [, runId, name] = match ?? [];
  return runId && name ? { runId, name } : null;
}

function RunNow({ api }: { api: Api }) {
  const [kind, setKind] = useState<Schemas["ReportKind"]>("daily-report");
  const [period, setPeriod] = useState("");
  const [run, setRun] = useState<Run | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const runKey = useIdempotencyKey();
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  async function follow(first: Run) {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    let current = first;
    while (alive.current && (current.status === "QUEUED" || current.status === "RUNNING")) {
      if (Date.now() > deadline) throw new Error("The run is still going; look again later.");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      current = await must(api.GET("/reports/runs/{runId}", { params: { path: { runId: current.runId } } }));
      if (alive.current) setRun(current);
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    const body = { kind, period: period.trim() || null };
    setBusy(true);
    setError(null);
    setRun(null);
    try {
      const queued = await must(
        api.POST("/reports/runs", { params: { header: { "Idempotency-Key": runKey.keyFor(body) } }, body }),
      );
      runKey.done();
      setRun(queued);
      await follow(queued);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="run-title" data-testid="run-now">
      <h2 id="run-title">Run a report now</h2>
      <form onSubmit={submit} class="row">
        <label>
          Report
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Schemas["ReportKind"])} data-testid="run-kind">
            <option value="daily-report">Daily report</option>
            <option value="weekly-report">Weekly report</option>
            <option value="affiliate-statements">Affiliate statements</option>
          </select>
        </label>
        <label>
          Period (a day, a Monday for weekly, a month YYYY-MM for statements; empty: the last one)
          <input
            value={period}
            pattern="\d{4}-\d{2}(-\d{2})?"
            placeholder="YYYY-MM-DD"
            onInput={(e) => setPeriod(e.currentTarget.value)}
            data-testid="run-period"
          />
        </label>
        <button type="submit" disabled={busy} data-testid="run-start">
          Run now
        </button>
      </form>
      <ErrorNote error={error} />
      {run ? (
        <div data-testid="run-status" aria-live="polite">
          <p>
            {run.kind} for {run.period}: <strong data-testid="run-state">{run.status}</strong>
            {run.finishedAt ? ` at ${when(run.finishedAt)}` : ""}
            {run.recipients?.length ? ` · mailed to ${run.recipients.join(", ")}` : ""}
          </p>
          {run.error ? <p class="error">{run.error}</p> : null}
          {run.files?.length ? (
            <ul data-testid="run-files">
              {run.files.map((f) => (
                <li key={f.name}>
                  <FileLink api={api} file={f} />
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function FileLink({ api, file }: { api: Api; file: Schemas["RunFile"] }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function download() {
    const params = fileParams(file.url);
    if (!params) {
      setError(`Unexpected file address ${file.url}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const blob = await must(
        api.GET("/reports/runs/{runId}/files/{name}", { params: { path: params }, parseAs: "blob" }),
      );
      const href = URL.createObjectURL(blob as unknown as Blob);
      const anchor = document.createElement("a");
      anchor.href = href;
      anchor.download = params.name;
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button type="button" onClick={download} disabled={busy} data-testid="run-file">
        Download {file.name}
      </button>
      {error ? (
        <span role="alert" class="error">
          {" "}
          {error}
        </span>
      ) : null}
    </>
  );
}
