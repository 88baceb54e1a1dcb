/**
 * `#/me/affiliate`: the affiliate dashboard. A shopper applies (POST /affiliates); staff approve at a
 * rate; the approved affiliate then sees their code and referral link, totals, commissions (a page at
 * a time) and clicks/orders/conversion per day over a chosen period (GET /affiliates/me/stats).
 *
 * Approval puts the user into the `affiliate` group, but an ID token minted before that does not
 * carry the group, and the commission and stats routes answer 403 to it: the page says to sign in
 * again rather than showing a bare "forbidden".
 */
import { useState } from "preact/hooks";

import { ApiError, call } from "../../shared/api";
import { signOut } from "../../shared/auth";
import type { components } from "../../shared/schema";
import { ErrorNote, Loading, money, navigate, useLoad } from "../../shared/ui";
import { signInPath, useApp } from "../app";
import { AccountPage, when } from "./shell";

type AffiliateMeOut = components["schemas"]["AffiliateMeOut"];
type CommissionOut = components["schemas"]["CommissionOut"];

export function AffiliatePage() {
  return (
    <AccountPage path="/me/affiliate" title="Affiliate programme">
      <Dashboard />
    </AccountPage>
  );
}

function Dashboard() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/affiliates/me")), [session?.sub]);
  if (loaded.loading && !loaded.data) return <Loading />;
  if (loaded.error instanceof ApiError && loaded.error.status === 404) {
    return <ApplyForm onApplied={loaded.reload} />;
  }
  if (!loaded.data) return <ErrorNote error={loaded.error} />;
  const me = loaded.data;
  return (
    <>
      <Account me={me} />
      {me.status === "APPROVED" ? <Earnings /> : null}
    </>
  );
}

function ApplyForm({ onApplied }: { onApplied: () => void }) {
  const { api, session } = useApp();
  const [name, setName] = useState("");
  const [website, setWebsite] = useState("");
  const [payoutEmail, setPayoutEmail] = useState(session?.email ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(api.POST("/affiliates", { body: { name: name.trim(), website: website.trim(), payoutEmail: payoutEmail.trim() } }));
      onApplied();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="affiliate-apply-form">
      <p>Promote the shop and earn a commission on every order your link brings. Apply below; staff review it.</p>
      <label>
        Your name or brand
        <input
          required
          maxLength={120}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          data-testid="affiliate-name"
        />
      </label>
      <label>
        Website where you promote us
        <input
          type="url"
          required
          maxLength={300}
          placeholder="https://blog.example.com"
          value={website}
          onInput={(e) => setWebsite(e.currentTarget.value)}
          data-testid="affiliate-website"
        />
      </label>
      <label>
        Email for payouts
        <input
          type="email"
          required
          maxLength={254}
          value={payoutEmail}
          onInput={(e) => setPayoutEmail(e.currentTarget.value)}
          data-testid="affiliate-payout-email"
        />
      </label>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy} data-testid="affiliate-apply">
        {busy ? "Applying…" : "Apply"}
      </button>
    </form>
  );
}

function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1).replace(/\.0$/, "")}%`;
}

function Account({ me }: { me: AffiliateMeOut }) {
  const [copied, setCopied] = useState(false);

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(me.referralLink);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (insecure context, denied): the link is selectable text anyway
    }
  }

  return (
    <section aria-labelledby="affiliate-account-heading" data-testid="affiliate-account">
      <h2 id="affiliate-account-heading">Your affiliate account</h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd data-testid="affiliate-status">{me.status === "PENDING" ? "PENDING (waiting for approval)" : me.status}</dd>
        <dt>Code</dt>
        <dd>
          <code data-testid="affiliate-code">{me.code}</code>
        </dd>
        <dt>Commission rate</dt>
        <dd data-testid="affiliate-rate">{percent(me.commissionRate)}</dd>
        {me.status === "APPROVED" ? (
          <>
            <dt>Referral link</dt>
            <dd>
              <input
                type="text"
                readOnly
                aria-label="Referral link"
                value={me.referralLink}
                onFocus={(e) => e.currentTarget.select()}
                data-testid="affiliate-link"
              />{" "}
              <button type="button" onClick={() => void copy()} data-testid="affiliate-copy">
                {copied ? "Copied" : "Copy"}
              </button>
            </dd>
          </>
        ) : null}
      </dl>
      <dl class="totals" data-testid="affiliate-totals">
        <dt>Pending</dt>
        <dd data-testid="affiliate-total-pending">{money(me.totals.pending)}</dd>
        <dt>Approved</dt>
        <dd>{money(me.totals.approved)}</dd>
        <dt>Paid out</dt>
        <dd>{money(me.totals.paid)}</dd>
        <dt>Reversed by refunds</dt>
        <dd>{money(me.totals.reversed)}</dd>
      </dl>
    </section>
  );
}

/** An approved affiliate whose token predates the approval: their group is not in it yet. */
function StaleToken() {
  return (
    <p data-testid="affiliate-signin-again">
      Your account was approved after you signed in.{" "}
      <button
        type="button"
        class="link"
        onClick={() => {
          signOut();
          navigate(signInPath("/me/affiliate"));
        }}
      >
        Sign in again
      </button>{" "}
      to see your commissions.
    </p>
  );
}

function Earnings() {
  const { session } = useApp();
  const mayRead = (session?.groups ?? []).some((g) => g === "affiliate" || g === "admin");
  if (!mayRead) return <StaleToken />;
  return (
    <>
      <Commissions />
      <Stats />
    </>
  );
}

function Commissions() {
  const { api } = useApp();
  const [pages, setPages] = useState<CommissionOut[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await call(api.GET("/affiliates/me/commissions", { params: { query: { limit: 20 } } }));
    setPages([]);
    setCursor(page.nextCursor);
    return page.items;
  }, []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function more(): Promise<void> {
    if (cursor === null) return;
    setBusy(true);
    setError(null);
    try {
      const page = await call(api.GET("/affiliates/me/commissions", { params: { query: { limit: 20, cursor } } }));
      setPages((kept) => [...kept, page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const items = [...(first.data ?? []), ...pages.flat()];
  if (first.error instanceof ApiError && first.error.status === 403) return <StaleToken />;
  return (
    <section aria-labelledby="commissions-heading" data-testid="affiliate-commissions">
      <h2 id="commissions-heading">Commissions</h2>
      {first.loading && !first.data ? <Loading /> : null}
      <ErrorNote error={first.error} />
      {first.data && items.length === 0 ? <p data-testid="no-commissions">No commissions yet.</p> : null}
      {items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Earned</th>
              <th scope="col">On</th>
              <th scope="col">Rate</th>
              <th scope="col">Commission</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.orderId} data-testid="commission" data-order-id={c.orderId}>
                <th scope="row">{c.orderId}</th>
                <td>{when(c.earnedAt)}</td>
                <td>{money(c.base)}</td>
                <td>{percent(c.commissionRate)}</td>
                <td data-testid="commission-amount">
                  {money(c.netAmount)}
                  {c.reversedAmount.amount > 0 ? <small> ({money(c.reversedAmount)} reversed)</small> : null}
                </td>
                <td data-testid="commission-status">{c.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ErrorNote error={error} />
      {cursor !== null ? (
        <button type="button" disabled={busy} onClick={() => void more()} data-testid="commissions-more">
          {busy ? "Loading…" : "Show older commissions"}
        </button>
      ) : null}
    </section>
  );
}

/** `YYYY-MM-DD` of a local date, as the date input and the API's `from`/`to` want it. */
function isoDay(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function Stats() {
  const { api } = useApp();
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29)));
  const [to, setTo] = useState(isoDay(today));
  const [period, setPeriod] = useState({ from, to });
  const loaded = useLoad(
    () => call(api.GET("/affiliates/me/stats", { params: { query: { from: period.from, to: period.to } } })),
    [period.from, period.to],
  );
  const stats = loaded.data;
  const peak = Math.max(1, ...(stats?.days ?? []).map((d) => d.clicks));

  return (
    <section aria-labelledby="stats-heading" data-testid="affiliate-stats">
      <h2 id="stats-heading">Clicks and orders per day</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          setPeriod({ from, to });
        }}
      >
        <label>
          From
          <input type="date" required value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="date" required value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="stats-show">
          Show
        </button>
      </form>
      {loaded.loading && !stats ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {stats ? (
        <table>
          <caption>
            {stats.from} to {stats.to}
          </caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Clicks</th>
              <th scope="col">Orders</th>
              <th scope="col">Conversion</th>
              <th scope="col">Commissions</th>
            </tr>
          </thead>
          <tbody>
            {stats.days
              .filter((d) => d.clicks > 0 || d.orders > 0 || d.commissions.amount > 0)
              .map((d) => (
                <tr key={d.day ?? ""} data-testid="stats-day">
                  <th scope="row">{d.day}</th>
                  <td>
                    <span class="bar" style={{ width: `${(d.clicks / peak) * 6}em` }} aria-hidden="true" /> {d.clicks}
                  </td>
                  <td>{d.orders}</td>
                  <td>{percent(d.conversion)}</td>
                  <td>{money(d.commissions)}</td>
                </tr>
              ))}
          </tbody>
          <tfoot>
            <tr data-testid="stats-total">
              <th scope="row">Total</th>
              <td data-testid="stats-total-clicks">{stats.total.clicks}</td>
              <td data-testid="stats-total-orders">{stats.total.orders}</td>
              <td>{percent(stats.total.conversion)}</td>
              <td>{money(stats.total.commissions)}</td>
            </tr>
          </tfoot>
        </table>
      ) : null}
    </section>
  );
}
