/**
 * The cart priced by the server: `POST /quotes` with the same inputs checkout will send (country or
 * address, shipping method, coupon, affiliate code), so what the shopper sees is what the order will
 * cost. The quote writes nothing and holds no stock; what stands in the way of ordering comes back in
 * `problems` (sold-out lines, a coupon that does not apply, a country not served) and is shown as such.
 */
import { useEffect, useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { Schema } from "../../shared/api";
import { Link, money, useLoad } from "../../shared/ui";
import { STORAGE, useApp } from "../app";
import type { CartLine } from "./cart";
import { setQuantity } from "./cart";

export type QuoteIn = Schema["/quotes"]["post"]["requestBody"]["content"]["application/json"];
export type Quote = Schema["/quotes"]["post"]["responses"][200]["content"]["application/json"];
export type ShippingMethod = Quote["shippingMethods"][number];
type Addresses = Schema["/me/addresses"]["get"]["responses"][200]["content"]["application/json"]["items"];

/** The cart page's choices, kept so that checkout starts where the cart left off. */
export interface Choices {
  country: string;
  shippingMethodId: string;
  couponCode: string;
}

export function readChoices(): Choices {
  try {
    const raw = JSON.parse(localStorage.getItem(STORAGE.choices) ?? "{}") as Partial<Choices>;
    return {
      country: typeof raw.country === "string" ? raw.country : "",
      shippingMethodId: typeof raw.shippingMethodId === "string" ? raw.shippingMethodId : "",
      couponCode: typeof raw.couponCode === "string" ? raw.couponCode : "",
    };
  } catch {
    return { country: "", shippingMethodId: "", couponCode: "" };
  }
}

export function useChoices(): [Choices, (change: Partial<Choices>) => void] {
  const [choices, setChoices] = useState<Choices>(readChoices);
  const update = (change: Partial<Choices>): void => {
    setChoices((old) => {
      const next = { ...old, ...change };
      localStorage.setItem(STORAGE.choices, JSON.stringify(next));
      return next;
    });
  };
  return [choices, update];
}

/** The affiliate code of a `?ref=` landing, kept by the visit beacon; blank when there is none. */
export function storedAffiliateCode(): string | undefined {
  const code = localStorage.getItem(STORAGE.ref)?.trim();
  return code ? code : undefined;
}

/** The countries some shipping method serves (public `GET /shipping-methods`), sorted. */
export function useCountries(): string[] {
  const { api } = useApp();
  const methods = useLoad(() => call(api.GET("/shipping-methods", { params: { query: {} } })), [api]);
  return [...new Set((methods.data?.items ?? []).flatMap((m) => m.countries))].sort();
}

/** The signed-in shopper's saved addresses (default first); empty when signed out or on failure. */
export function useAddresses(): Addresses {
  const { api, session } = useApp();
  const addresses = useLoad(
    async () => (session ? (await call(api.GET("/me/addresses"))).items : []),
    [api, session?.sub],
  );
  return [...(addresses.data ?? [])].sort((a, b) => Number(b.default) - Number(a.default));
}

/** Picks a starting country once: the stored choice, else the default address's, else the first served. */
export function useDefaultCountry(choices: Choices, set: (change: Partial<Choices>) => void, countries: string[], addresses: Addresses): void {
  useEffect(() => {
    if (choices.country) return;
    const fromAddress = addresses.find((a) => a.default)?.country ?? addresses[0]?.country;
    const pick = fromAddress ?? (countries.includes("DE") ? "DE" : countries[0]);
    if (pick) set({ country: pick });
    // Runs only when what it depends on arrives (the lists are compared by content, not identity).
  }, [choices.country, countries.join(","), addresses.length]);
}

export function useQuote(request: QuoteIn | null) {
  const { api } = useApp();
  const key = JSON.stringify(request);
  return useLoad(async () => (request ? call(api.POST("/quotes", { body: request })) : null), [api, key]);
}

function days(min: number, max: number): string {
  if (min === max) return min === 1 ? "1 day" : `${min} days`;
  return `${min}–${max} days`;
}

export function ShippingChoice({
  quote,
  value,
  onChange,
}: {
  quote: Quote;
  value: string;
  onChange: (id: string) => void;
}) {
  if (quote.shippingMethods.length === 0) return null;
  const effective = value || (quote.shippingMethods.length === 1 ? (quote.shippingMethods[0]?.shippingMethodId ?? "") : "");
  const required = quote.problems.find((p) => p.code === "shipping_method_required");
  return (
    <fieldset data-testid="shipping-methods">
      <legend>Shipping</legend>
      {required ? (
        <p class="muted" data-testid="shipping-required">
          Choose how your order should travel.
        </p>
      ) : null}
      {quote.shippingMethods.map((m) => (
        <label key={m.shippingMethodId} data-testid="shipping-method" data-method-id={m.shippingMethodId}>
          <input
            type="radio"
            name="shipping-method"
            value={m.shippingMethodId}
            checked={effective === m.shippingMethodId}
            onChange={() => onChange(m.shippingMethodId)}
          />{" "}
          {m.name} — {money(m.price)}
          {m.freeOver ? <small> (free over {money(m.freeOver)})</small> : null}
          {m.minDays != null && m.maxDays != null ? <small> · {days(m.minDays, m.maxDays)}</small> : null}
        </label>
      ))}
    </fieldset>
  );
}

export function CouponField({ value, onApply, quote }: { value: string; onApply: (code: string) => void; quote: Quote | null | undefined }) {
  const [code, setCode] = useState(value);
  useEffect(() => setCode(value), [value]);
  const coupon = quote?.coupon;
  const problem = quote?.problems.find((p) => p.code.startsWith("coupon_"));
  return (
    <div class="coupon">
      <label for="coupon-code">Coupon code</label>
      <div class="row">
        <input id="coupon-code" value={code} onInput={(e) => setCode(e.currentTarget.value)} autocomplete="off" data-testid="coupon-input" />
        <button type="button" class="secondary" onClick={() => onApply(code.trim().toUpperCase())} data-testid="coupon-apply">
          Apply
        </button>
        {value ? (
          <button type="button" class="secondary" onClick={() => onApply("")} data-testid="coupon-remove">
            Remove
          </button>
        ) : null}
      </div>
      {coupon ? (
        <p role="status" class={coupon.valid ? "ok" : "error"} data-testid="coupon-feedback">
          {coupon.valid ? `${coupon.code}: you save ${money(coupon.discount)}` : `${coupon.code}: ${problem?.message ?? "does not apply"}`}
        </p>
      ) : null}
    </div>
  );
}

/** The priced lines and totals; with `editable`, quantities can be changed and lines removed. */
export function QuoteSummary({ quote, cart, editable }: { quote: Quote; cart: CartLine[]; editable: boolean }) {
  // Coupon problems show by the coupon field, sold-out ones on their lines, a missing method by the methods.
  const otherProblems = quote.problems.filter(
    (p) => !p.code.startsWith("coupon_") && p.code !== "out_of_stock" && p.code !== "shipping_method_required",
  );
  return (
    <div data-testid="quote">
      <table>
        <caption class="visually-hidden">Your cart</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Quantity</th>
            <th scope="col">Price</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {quote.lines.map((line) => {
            const name = cart.find((l) => l.sku === line.sku)?.name ?? line.name;
            return (
              <tr key={line.sku} data-testid="quote-line" data-sku={line.sku} class={line.available ? "" : "unavailable"}>
                <td>
                  <Link to={`/products/${encodeURIComponent(line.productId)}`}>{name}</Link>
                  {line.available ? null : (
                    <strong class="error" data-testid="sold-out">
                      {" "}
                      Sold out — not enough in stock
                    </strong>
                  )}
                </td>
                <td>
                  {editable ? (
                    <>
                      <label class="visually-hidden" for={`qty-${line.sku}`}>
                        Quantity of {name}
                      </label>
                      <input
                        id={`qty-${line.sku}`}
                        type="number"
                        min={0}
                        max={99}
                        value={line.quantity}
                        onChange={(e) => setQuantity(line.sku, Number(e.currentTarget.value) || 0)}
                        data-testid="line-quantity"
                        style={{ width: "4.5rem" }}
                      />{" "}
                      <button type="button" class="secondary" onClick={() => setQuantity(line.sku, 0)} data-testid="line-remove">
                        Remove<span class="visually-hidden"> {name}</span>
                      </button>
                    </>
                  ) : (
                    line.quantity
                  )}
                </td>
                <td>{money(line.unitPrice)}</td>
                <td>{money(line.lineTotal)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {otherProblems.map((p) => (
        <p key={`${p.code}-${p.sku ?? ""}`} class="error" role="alert" data-testid="quote-problem" data-code={p.code}>
          {p.message}
        </p>
      ))}
      <dl class="totals">
        <dt>Subtotal</dt>
        <dd data-testid="quote-subtotal">{money(quote.subtotal)}</dd>
        {quote.discount.amount ? (
          <>
            <dt>Discount</dt>
            <dd data-testid="quote-discount">−{money(quote.discount)}</dd>
          </>
        ) : null}
        <dt>Shipping</dt>
        <dd data-testid="quote-shipping">
          {quote.problems.some((p) => p.code === "shipping_method_required") ? "choose a method" : money(quote.shipping)}
        </dd>
        <dt>{quote.pricesIncludeTax ? "Included tax" : "Tax"}</dt>
        <dd data-testid="quote-tax">{money(quote.tax)}</dd>
        <dt>Total</dt>
        <dd data-testid="quote-total">
          <strong>{money(quote.total)}</strong>
        </dd>
      </dl>
    </div>
  );
}

/** Whether the quote lets the cart be ordered (coupon problems only drop the coupon, so they block too). */
export function blocking(quote: Quote): string[] {
  return quote.problems.filter((p) => p.code !== "no_tax_rate").map((p) => p.message);
}
