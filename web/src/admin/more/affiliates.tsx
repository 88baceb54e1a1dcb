/**
 * `#/affiliates` (admin): every affiliate account, newest first, with its totals; a pending one is
 * approved at a commission rate, an approved one with approved commissions is paid out. A payout
 * carries an `Idempotency-Key`, so a click retried after a timeout pays once.
 */
import { useState } from "preact/hooks";

import { ErrorNote, Loading, money, useLoad } from "../../shared/ui";
import type { PageProps } from "../core/page";
import { must, useIdempotencyKey, when } from "../core/util";
import { type Schemas, parsePercent } from "./load";

type Affiliate = Schemas["AffiliateOut"];

/** The API takes the rate as a fraction with at most four decimals: "12.5" % is "0.125". */
export function rateOf(percentText: string): string | null {
  const percent = parsePercent(percentText);
  if (percent === null) return null;
  const value = Number(percent);
  if (value <= 0 || value > 50) return null;
  return (value / 100).toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 10000) / 100} %`;
}

export function AffiliatesPage({ api }: PageProps) {
  const [cursor, setCursor] = useState<string | null>(null);
  const page = useLoad(
    () => must(api.GET("/admin/affiliates", { params: { query: { limit: 50, cursor } } })),
    [cursor],
  );
  return (
    <section aria-labelledby="affiliates-title">
      <h1 id="affiliates-title">Affiliates</h1>
      {page.loading && !page.data ? <Loading /> : null}
      <ErrorNote error={page.error} />
      {page.data ? (
        <table data-testid="affiliate-list">
          <thead>
            <tr>
              <th scope="col">Affiliate</th>
              <th scope="col">Code</th>
              <th scope="col">Status</th>
              <th scope="col">Rate</th>
              <th scope="col">Pending</th>
              <th scope="col">Approved</th>
              <th scope="col">Paid</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((a) => (
              <AffiliateRow key={a.affiliateId} api={api} affiliate={a} onChanged={page.reload} />
            ))}
            {page.data.items.length === 0 ? (
              <tr>
                <td colSpan={8}>No applications yet.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {page.data?.nextCursor ? (
        <button type="button" onClick={() => setCursor(page.data?.nextCursor ?? null)}>
          Next page
        </button>
      ) : null}
    </section>
  );
}

function AffiliateRow({ api, affiliate: a, onChanged }: { api: PageProps["api"]; affiliate: Affiliate; onChanged: () => void }) {
  const [rate, setRate] = useState("10");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const payoutKey = useIdempotencyKey();
  const affiliateId = a.affiliateId;

  async function approve(event: Event) {
    event.preventDefault();
    const commissionRate = rateOf(rate);
    if (commissionRate === null) {
      setError(new Error("The rate is a percent above 0 and at most 50."));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await must(api.POST("/affiliates/{affiliateId}/approve", { params: { path: { affiliateId } }, body: { commissionRate } }));
      setDone("Approved.");
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function payOut() {
    if (!window.confirm(`Pay out ${money(a.totals.approved)} to ${a.name}?`)) return;
    setBusy(true);
    setError(null);
    try {
      const payout = await must(
        api.POST("/affiliates/{affiliateId}/payouts", {
          params: { path: { affiliateId }, header: { "Idempotency-Key": payoutKey.keyFor(affiliateId) } },
        }),
      );
      payoutKey.done();
      setDone(`Paid ${money(payout.total)} for ${payout.commissionCount} commission(s).`);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr data-testid={`affiliate-row-${a.affiliateId}`}>
      <td>
        {a.name}
        <br />
        <small>
          {a.email ?? a.payoutEmail} · {a.website} · applied {when(a.createdAt)}
        </small>
      </td>
      <td>{a.code}</td>
      <td>{a.status}</td>
      <td>{percent(a.commissionRate)}</td>
      <td>{money(a.totals.pending)}</td>
      <td>{money(a.totals.approved)}</td>
      <td>{money(a.totals.paid)}</td>
      <td>
        {a.status === "PENDING" ? (
          <form onSubmit={approve} class="row">
            <label>
              Rate (%)
              <input
                size={4}
                inputMode="decimal"
                value={rate}
                onInput={(e) => setRate(e.currentTarget.value)}
                data-testid="affiliate-rate"
              />
            </label>
            <button type="submit" disabled={busy} data-testid="affiliate-approve">
              Approve
            </button>
          </form>
        ) : (
          <button
            type="button"
            disabled={busy || a.totals.approved.amount === 0}
            onClick={payOut}
            data-testid="affiliate-payout"
            title={a.totals.approved.amount === 0 ? "No approved commission to pay" : undefined}
          >
            Pay out
          </button>
        )}
        {done ? <p class="ok" role="status">{done}</p> : null}
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}
