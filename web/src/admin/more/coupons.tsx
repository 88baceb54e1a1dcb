/**
 * `#/coupons` (admin): the coupons by code, a form to create one with its type, value, limits,
 * validity and categories, and `#/coupons/:code` to view one with how often it was redeemed and to end
 * it now (a code that leaked, a promotion over early). Coupons are never edited in place (the API has no
 * PUT): a changed offer is a new code.
 */
import { useState } from "preact/hooks";

import { ErrorNote, Loading, money, navigate, useLoad } from "../../shared/ui";
import type { PageProps } from "../core/page";
import { must, parseMinor, when } from "../core/util";
import { type Schemas } from "./load";

type Coupon = Schemas["CouponOut"];
type CouponIn = Schemas["CouponIn"];

function describeValue(c: Coupon): string {
  return c.type === "percent" ? `${c.value} %` : money({ amount: c.value, currency: c.currency ?? "EUR" });
}

function validity(c: Coupon): string {
  if (!c.validFrom && !c.validUntil) return "always";
  return `${c.validFrom ? when(c.validFrom) : "…"} – ${c.validUntil ? when(c.validUntil) : "…"}`;
}

export function CouponsPage(props: PageProps) {
  const code = props.params[0];
  return code ? <CouponView {...props} code={decodeURIComponent(code)} /> : <CouponList {...props} />;
}

function CouponList({ api }: PageProps) {
  const [cursor, setCursor] = useState<string | null>(null);
  const page = useLoad(
    () => must(api.GET("/coupons", { params: { query: { limit: 50, cursor } } })),
    [cursor],
  );
  return (
    <section aria-labelledby="coupons-title">
      <h1 id="coupons-title">Coupons</h1>
      <CouponForm api={api} onCreated={page.reload} />
      <h2>All coupons</h2>
      {page.loading && !page.data ? <Loading /> : null}
      <ErrorNote error={page.error} />
      {page.data ? (
        <table data-testid="coupon-list">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Value</th>
              <th scope="col">Valid</th>
              <th scope="col">Redeemed</th>
              <th scope="col">Categories</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((c) => (
              <tr key={c.code} data-testid={`coupon-row-${c.code}`}>
                <td>
                  <a href={`#/coupons/${encodeURIComponent(c.code)}`}>{c.code}</a>
                </td>
                <td>{describeValue(c)}</td>
                <td>{validity(c)}</td>
                <td>
                  {c.redemptions ?? 0}
                  {c.maxRedemptions ? ` / ${c.maxRedemptions}` : ""}
                </td>
                <td>{c.categories?.join(", ") || "all"}</td>
              </tr>
            ))}
            {page.data.items.length === 0 ? (
              <tr>
                <td colSpan={5}>No coupons yet.</td>
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
      {cursor ? (
        <button type="button" onClick={() => setCursor(null)}>
          First page
        </button>
      ) : null}
    </section>
  );
}

/** `datetime-local` (the staff member's clock) to the ISO instant the API stores. */
function instant(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function optionalInt(text: string): number | null {
  const n = Number(text);
  return text.trim() === "" || !Number.isInteger(n) ? null : n;
}

function CouponForm({ api, onCreated }: { api: PageProps["api"]; onCreated: () => void }) {
  const [code, setCode] = useState("");
  const [type, setType] = useState<"percent" | "fixed">("percent");
  const [value, setValue] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [minSubtotal, setMinSubtotal] = useState("");
  const [validFrom, setValidFrom] = useState("");
  const [validUntil, setValidUntil] = useState("");
  const [maxRedemptions, setMaxRedemptions] = useState("");
  const [maxPerCustomer, setMaxPerCustomer] = useState("");
  const [firstOrderOnly, setFirstOrderOnly] = useState(false);
  const [categories, setCategories] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setCreated(null);
    const amount = type === "percent" ? optionalInt(value) : parseMinor(value);
    if (amount === null || amount < 1 || (type === "percent" && amount > 100)) {
      setError(new Error(type === "percent" ? "The value is a whole percent from 1 to 100." : "The value is an amount such as 5.00."));
      return;
    }
    const minimum = minSubtotal.trim() ? parseMinor(minSubtotal) : null;
    if (minSubtotal.trim() && minimum === null) {
      setError(new Error("The minimum subtotal is an amount such as 50.00."));
      return;
    }
    const body: CouponIn = {
      code: code.trim().toUpperCase(),
      type,
      value: amount,
      currency: type === "fixed" ? currency : null,
      minSubtotal: minimum === null ? null : { amount: minimum, currency },
      validFrom: instant(validFrom),
      validUntil: instant(validUntil),
      maxRedemptions: optionalInt(maxRedemptions),
      maxPerCustomer: optionalInt(maxPerCustomer),
      firstOrderOnly,
      categories: categories.trim()
        ? categories
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean)
        : null,
    };
    setBusy(true);
    try {
      const coupon = await must(api.POST("/coupons", { body }));
      setCreated(coupon.code);
      setCode("");
      setValue("");
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="coupon-form" class="stack">
      <h2>New coupon</h2>
      <label>
        Code
        <input
          name="code"
          required
          pattern="[A-Za-z0-9_\-]{3,40}"
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
          data-testid="coupon-code"
        />
      </label>
      <label>
        Type
        <select
          name="type"
          value={type}
          onChange={(e) => setType(e.currentTarget.value === "fixed" ? "fixed" : "percent")}
          data-testid="coupon-type"
        >
          <option value="percent">Percent off</option>
          <option value="fixed">Fixed amount off</option>
        </select>
      </label>
      <label>
        {type === "percent" ? "Percent" : "Amount"}
        <input
          name="value"
          required
          inputMode="decimal"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          data-testid="coupon-value"
        />
      </label>
      <label>
        Currency
        <input
          name="currency"
          pattern="[A-Z]{3}"
          value={currency}
          onInput={(e) => setCurrency(e.currentTarget.value.toUpperCase())}
          data-testid="coupon-currency"
        />
      </label>
      <label>
        Minimum subtotal (optional)
        <input name="minSubtotal" inputMode="decimal" value={minSubtotal} onInput={(e) => setMinSubtotal(e.currentTarget.value)} />
      </label>
      <label>
        Valid from (optional)
        <input name="validFrom" type="datetime-local" value={validFrom} onInput={(e) => setValidFrom(e.currentTarget.value)} />
      </label>
      <label>
        Valid until (optional)
        <input name="validUntil" type="datetime-local" value={validUntil} onInput={(e) => setValidUntil(e.currentTarget.value)} />
      </label>
      <label>
        Redemptions in total (optional)
        <input
          name="maxRedemptions"
          type="number"
          min={1}
          value={maxRedemptions}
          onInput={(e) => setMaxRedemptions(e.currentTarget.value)}
        />
      </label>
      <label>
        Redemptions per customer (optional)
        <input
          name="maxPerCustomer"
          type="number"
          min={1}
          value={maxPerCustomer}
          onInput={(e) => setMaxPerCustomer(e.currentTarget.value)}
        />
      </label>
      <label>
        Categories, comma separated (empty: every line)
        <input name="categories" value={categories} onInput={(e) => setCategories(e.currentTarget.value)} />
      </label>
      <label>
        <input type="checkbox" checked={firstOrderOnly} onChange={(e) => setFirstOrderOnly(e.currentTarget.checked)} />
        First order only
      </label>
      <div>
        <button type="submit" disabled={busy} data-testid="coupon-create">
          Create coupon
        </button>
      </div>
      <ErrorNote error={error} />
      {created ? (
        <p class="ok" role="status" data-testid="coupon-created">
          Coupon {created} created.
        </p>
      ) : null}
    </form>
  );
}

/** Over: its end has passed (ended by staff, or expired). */
function isOver(c: Coupon): boolean {
  return c.validUntil ? new Date(c.validUntil).getTime() <= Date.now() : false;
}

function CouponView({ api, code }: PageProps & { code: string }) {
  const coupon = useLoad(() => must(api.GET("/coupons/{code}", { params: { path: { code } } })), [code]);
  const [endArmed, setEndArmed] = useState(false);
  const [endError, setEndError] = useState<unknown>(null);
  const c = coupon.data;

  async function end(): Promise<void> {
    setEndError(null);
    try {
      await must(api.POST("/coupons/{code}/end", { params: { path: { code } } }));
      setEndArmed(false);
      coupon.reload();
    } catch (e) {
      setEndError(e);
    }
  }

  return (
    <section aria-labelledby="coupon-title">
      <p>
        <a href="#/coupons" onClick={(e) => (e.preventDefault(), navigate("/coupons"))}>
          ← All coupons
        </a>
      </p>
      <h1 id="coupon-title">Coupon {code}</h1>
      {coupon.loading && !c ? <Loading /> : null}
      <ErrorNote error={coupon.error} />
      {c ? (
        <dl data-testid="coupon-detail">
          <dt>Value</dt>
          <dd>{describeValue(c)}</dd>
          <dt>Minimum subtotal</dt>
          <dd>{c.minSubtotal ? money(c.minSubtotal) : "none"}</dd>
          <dt>Valid</dt>
          <dd data-testid="coupon-validity">
            {validity(c)}
            {isOver(c) ? " (over: checkouts refuse it)" : ""}
          </dd>
          <dt>Redeemed</dt>
          <dd data-testid="coupon-redemptions">
            {c.redemptions ?? 0}
            {c.maxRedemptions ? ` of ${c.maxRedemptions}` : " (no limit)"}
          </dd>
          <dt>Per customer</dt>
          <dd>{c.maxPerCustomer ?? "no limit"}</dd>
          <dt>First order only</dt>
          <dd>{c.firstOrderOnly ? "yes" : "no"}</dd>
          <dt>Categories</dt>
          <dd>{c.categories?.join(", ") || "every line"}</dd>
          <dt>Customers</dt>
          <dd>{c.customerIds?.length ? c.customerIds.join(", ") : "everyone"}</dd>
        </dl>
      ) : null}
      {c && !isOver(c) ? (
        <div class="card">
          {endArmed ? (
            <>
              <span>End {c.code} now? Checkouts refuse it from this moment; its uses so far stay.</span>{" "}
              <button type="button" class="danger" onClick={() => void end()} data-testid="coupon-end-confirm">
                Yes, end it
              </button>{" "}
              <button type="button" onClick={() => setEndArmed(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" class="danger" onClick={() => setEndArmed(true)} data-testid="coupon-end">
              End coupon now
            </button>
          )}
        </div>
      ) : null}
      <ErrorNote error={endError} />
    </section>
  );
}
