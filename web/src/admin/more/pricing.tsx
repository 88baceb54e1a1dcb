/**
 * `#/pricing` (admin): shipping methods (create, edit, archive) and tax rates per country (the
 * standard rate and reduced ones by category). Quotes and orders read both at once, so a change
 * here prices the next cart; orders already placed keep what they were charged.
 */
import { useState } from "preact/hooks";

import { ErrorNote, Loading, money, useLoad } from "../../shared/ui";
import type { PageProps } from "../core/page";
import { formatMinor, must, parseMinor } from "../core/util";
import { type Schemas, parsePercent } from "./load";

type Method = Schemas["ShippingMethodOut"];
type MethodIn = Schemas["ShippingMethodIn"];

export function PricingPage({ api }: PageProps) {
  return (
    <section aria-labelledby="pricing-title">
      <h1 id="pricing-title">Shipping and tax</h1>
      <ShippingMethods api={api} />
      <TaxRates api={api} />
    </section>
  );
}

function ShippingMethods({ api }: { api: PageProps["api"] }) {
  const list = useLoad(() => must(api.GET("/shipping-methods", {})), []);
  const [editing, setEditing] = useState<Method | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function archive(m: Method) {
    if (!window.confirm(`Archive ${m.name}? It will serve nobody from now on.`)) return;
    setError(null);
    try {
      await must(api.DELETE("/shipping-methods/{shippingMethodId}", { params: { path: { shippingMethodId: m.shippingMethodId } } }));
      list.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="shipping-title">
      <h2 id="shipping-title">Shipping methods</h2>
      {list.loading && !list.data ? <Loading /> : null}
      <ErrorNote error={list.error ?? error} />
      {list.data ? (
        <table data-testid="shipping-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Countries</th>
              <th scope="col">Price</th>
              <th scope="col">Free over</th>
              <th scope="col">Days</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((m) => (
              <tr key={m.shippingMethodId} data-testid={`shipping-row-${m.shippingMethodId}`}>
                <td>{m.name}</td>
                <td>{m.countries.join(", ")}</td>
                <td>{money(m.price)}</td>
                <td>{m.freeOver ? money(m.freeOver) : "—"}</td>
                <td>{m.minDays !== null || m.maxDays !== null ? `${m.minDays ?? "?"}–${m.maxDays ?? "?"}` : "—"}</td>
                <td>
                  <button type="button" onClick={() => setEditing(m)} data-testid="shipping-edit">
                    Edit
                  </button>{" "}
                  <button type="button" onClick={() => archive(m)} data-testid="shipping-archive">
                    Archive
                  </button>
                </td>
              </tr>
            ))}
            {list.data.items.length === 0 ? (
              <tr>
                <td colSpan={6}>No active shipping method: checkout cannot ship anywhere.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <ShippingForm
        key={editing?.shippingMethodId ?? "new"}
        api={api}
        method={editing}
        onSaved={() => {
          setEditing(null);
          list.reload();
        }}
        onCancel={() => setEditing(null)}
      />
    </section>
  );
}

function ShippingForm({
  api,
  method,
  onSaved,
  onCancel,
}: {
  api: PageProps["api"];
  method: Method | null;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(method?.name ?? "");
  const [countries, setCountries] = useState(method?.countries.join(", ") ?? "");
  const [price, setPrice] = useState(method ? formatMinor(method.price.amount) : "");
  const [currency, setCurrency] = useState(method?.price.currency ?? "EUR");
  const [freeOver, setFreeOver] = useState(method?.freeOver ? formatMinor(method.freeOver.amount) : "");
  const [minDays, setMinDays] = useState(method?.minDays?.toString() ?? "");
  const [maxDays, setMaxDays] = useState(method?.maxDays?.toString() ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const amount = parseMinor(price);
    const free = freeOver.trim() ? parseMinor(freeOver) : null;
    const codes = countries
      .split(/[\s,]+/)
      .map((c) => c.trim().toUpperCase())
      .filter(Boolean);
    if (amount === null || (freeOver.trim() && free === null)) {
      setError(new Error("Prices are amounts such as 4.90."));
      return;
    }
    if (codes.length === 0 || codes.some((c) => !/^[A-Z]{2}$/.test(c))) {
      setError(new Error("Countries are two-letter codes such as DE, FR."));
      return;
    }
    const body: MethodIn = {
      name: name.trim(),
      countries: codes,
      price: { amount, currency },
      freeOver: free === null ? null : { amount: free, currency },
      minDays: minDays.trim() ? Number(minDays) : null,
      maxDays: maxDays.trim() ? Number(maxDays) : null,
    };
    setBusy(true);
    setError(null);
    try {
      if (method) {
        await must(
          api.PUT("/shipping-methods/{shippingMethodId}", {
            params: { path: { shippingMethodId: method.shippingMethodId } },
            body,
          }),
        );
      } else {
        await must(api.POST("/shipping-methods", { body }));
      }
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} class="stack" data-testid="shipping-form">
      <h3>{method ? `Edit ${method.name}` : "New shipping method"}</h3>
      <label>
        Name
        <input required maxLength={80} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="shipping-name" />
      </label>
      <label>
        Countries (comma separated)
        <input required value={countries} onInput={(e) => setCountries(e.currentTarget.value)} data-testid="shipping-countries" />
      </label>
      <label>
        Price
        <input required inputMode="decimal" value={price} onInput={(e) => setPrice(e.currentTarget.value)} data-testid="shipping-price" />
      </label>
      <label>
        Currency
        <input required pattern="[A-Z]{3}" value={currency} onInput={(e) => setCurrency(e.currentTarget.value.toUpperCase())} />
      </label>
      <label>
        Free over (optional)
        <input inputMode="decimal" value={freeOver} onInput={(e) => setFreeOver(e.currentTarget.value)} />
      </label>
      <label>
        Delivery days, from (optional)
        <input type="number" min={0} max={365} value={minDays} onInput={(e) => setMinDays(e.currentTarget.value)} />
      </label>
      <label>
        Delivery days, to (optional)
        <input type="number" min={0} max={365} value={maxDays} onInput={(e) => setMaxDays(e.currentTarget.value)} />
      </label>
      <div>
        <button type="submit" disabled={busy} data-testid="shipping-save">
          {method ? "Save" : "Create"}
        </button>{" "}
        {method ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

/** "books=7, food=7" (or one per line) to `{books: "7", food: "7"}`; throws on a malformed entry. */
export function parseCategoryRates(text: string): Record<string, string> {
  const rates: Record<string, string> = {};
  for (const entry of text.split(/[\n,;]+/).map((e) => e.trim()).filter(Boolean)) {
    const [slug, rate, ...rest] = entry.split(/\s*[=:]\s*/);
    const percent = parsePercent(rate ?? "");
    if (!slug || !/^[a-z0-9-]{1,80}$/.test(slug) || percent === null || rest.length > 0) {
      throw new Error(`“${entry}” is not category=percent (e.g. books=7).`);
    }
    rates[slug] = percent;
  }
  return rates;
}

function TaxRates({ api }: { api: PageProps["api"] }) {
  const list = useLoad(() => must(api.GET("/tax-rates", {})), []);
  const [country, setCountry] = useState("");
  const [standard, setStandard] = useState("");
  const [categories, setCategories] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);

  function edit(row: Schemas["TaxRatesOut"]) {
    setCountry(row.country);
    setStandard(row.standard);
    setCategories(
      Object.entries(row.categories)
        .map(([slug, rate]) => `${slug}=${rate}`)
        .join(", "),
    );
  }

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const code = country.trim().toUpperCase();
    const rate = parsePercent(standard);
    if (!/^[A-Z]{2}$/.test(code) || rate === null) {
      setError(new Error("A two-letter country code and a percent from 0 to 100 (at most two decimals)."));
      return;
    }
    let byCategory: Record<string, string>;
    try {
      byCategory = parseCategoryRates(categories);
    } catch (e) {
      setError(e);
      return;
    }
    setBusy(true);
    try {
      await must(
        api.PUT("/tax-rates/{country}", { params: { path: { country: code } }, body: { standard: rate, categories: byCategory } }),
      );
      setSaved(code);
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="tax-title">
      <h2 id="tax-title">Tax rates</h2>
      {list.loading && !list.data ? <Loading /> : null}
      <ErrorNote error={list.error} />
      {list.data ? (
        <table data-testid="tax-list">
          <thead>
            <tr>
              <th scope="col">Country</th>
              <th scope="col">Standard</th>
              <th scope="col">By category</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((row) => (
              <tr key={row.country} data-testid={`tax-row-${row.country}`}>
                <td>{row.country}</td>
                <td>{row.standard} %</td>
                <td>
                  {Object.entries(row.categories)
                    .map(([slug, r]) => `${slug} ${r} %`)
                    .join(", ") || "—"}
                </td>
                <td>
                  <button type="button" onClick={() => edit(row)} aria-label={`Edit ${row.country}`}>
                    Edit
                  </button>
                </td>
              </tr>
            ))}
            {list.data.items.length === 0 ? (
              <tr>
                <td colSpan={4}>No tax rates: quotes charge no tax.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      <form onSubmit={submit} class="stack" data-testid="tax-form">
        <h3>Set a country's rates</h3>
        <label>
          Country
          <input
            required
            maxLength={2}
            value={country}
            onInput={(e) => setCountry(e.currentTarget.value.toUpperCase())}
            data-testid="tax-country"
          />
        </label>
        <label>
          Standard rate (%)
          <input required inputMode="decimal" value={standard} onInput={(e) => setStandard(e.currentTarget.value)} data-testid="tax-standard" />
        </label>
        <label>
          Reduced rates by category (e.g. books=7, food=7)
          <input value={categories} onInput={(e) => setCategories(e.currentTarget.value)} data-testid="tax-categories" />
        </label>
        <div>
          <button type="submit" disabled={busy} data-testid="tax-save">
            Save rates
          </button>
        </div>
        <ErrorNote error={error} />
        {saved ? (
          <p class="ok" role="status" data-testid="tax-saved">
            Rates of {saved} saved.
          </p>
        ) : null}
      </form>
    </section>
  );
}
