/**
 * `#/customers` (support, admin): search by the first letters of an email or a name, and
 * `#/customers/:id`, the support view: profile, lifetime value, addresses, orders and notes, with a
 * form to add a note. Everything here is allowed to both staff roles, so nothing is hidden by role.
 */
import { useEffect, useState } from "preact/hooks";

import { ErrorNote, Loading, money, navigate, useLoad } from "../../shared/ui";
import type { PageProps } from "../core/page";
import { must, when } from "../core/util";

/** The API refuses shorter queries (a prefix of one letter would page through everyone). */
const MIN_QUERY = 2;
/** Wait this long after the last keystroke before searching, so typing a name is one request. */
const DEBOUNCE_MS = 300;

export function CustomersPage(props: PageProps) {
  const id = props.params[0];
  return id ? <SupportView {...props} customerId={decodeURIComponent(id)} /> : <CustomerSearch {...props} />;
}

function CustomerSearch({ api }: PageProps) {
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const ready = query.length >= MIN_QUERY;
  const matches = useLoad(
    () => (ready ? must(api.GET("/admin/customers", { params: { query: { q: query, limit: 25 } } })) : Promise.resolve(null)),
    [query],
  );

  return (
    <section aria-labelledby="customers-title">
      <h1 id="customers-title">Customers</h1>
      <form role="search" onSubmit={(e) => (e.preventDefault(), setQuery(text.trim()))}>
        <label>
          Email or name starts with
          <input
            type="search"
            name="q"
            value={text}
            minLength={MIN_QUERY}
            maxLength={100}
            autoComplete="off"
            onInput={(e) => setText(e.currentTarget.value)}
            data-testid="customer-search"
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {!ready ? <p class="muted">Type at least {MIN_QUERY} letters.</p> : null}
      {ready && matches.loading ? <Loading /> : null}
      <ErrorNote error={matches.error} />
      {ready && matches.data ? (
        matches.data.items.length === 0 ? (
          <p data-testid="customer-none">No customer matches “{query}”.</p>
        ) : (
          <ul data-testid="customer-results">
            {matches.data.items.map((m) => (
              <li key={m.customerId}>
                <a href={`#/customers/${encodeURIComponent(m.customerId)}`} data-testid="customer-result">
                  {m.name ?? "(no name)"} — {m.email ?? "(no email)"}
                </a>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </section>
  );
}

function SupportView({ api, session, customerId }: PageProps & { customerId: string }) {
  const view = useLoad(
    () => must(api.GET("/admin/customers/{customerId}", { params: { path: { customerId } } })),
    [customerId],
  );
  const v = view.data;
  return (
    <section aria-labelledby="customer-title">
      <p>
        <a href="#/customers" onClick={(e) => (e.preventDefault(), navigate("/customers"))}>
          ← Search customers
        </a>
      </p>
      <h1 id="customer-title">{v ? (v.profile.name ?? v.profile.email ?? customerId) : "Customer"}</h1>
      {view.loading && !v ? <Loading /> : null}
      <ErrorNote error={view.error} />
      {v ? (
        <div data-testid="support-view">
          <dl>
            <dt>Email</dt>
            <dd data-testid="customer-email">{v.profile.email ?? "—"}</dd>
            <dt>Phone</dt>
            <dd>{v.profile.phone ?? "—"}</dd>
            <dt>Lifetime value</dt>
            <dd data-testid="customer-ltv">{money(v.profile.summary.lifetimeValue)}</dd>
            <dt>Paid orders</dt>
            <dd>{v.profile.summary.orderCount}</dd>
            <dt>Last order</dt>
            <dd>{v.profile.summary.lastOrderAt ? when(v.profile.summary.lastOrderAt) : "—"}</dd>
            <dt>Favourite categories</dt>
            <dd>{v.profile.summary.favouriteCategories.join(", ") || "—"}</dd>
            <dt>Marketing consent</dt>
            <dd>{v.profile.marketingConsent ? "yes" : "no"}</dd>
          </dl>

          <h2>Addresses</h2>
          {v.addresses.length === 0 ? <p>None saved.</p> : null}
          <ul>
            {v.addresses.map((a) => (
              <li key={a.addressId}>
                {a.name}, {a.line1}
                {a.line2 ? `, ${a.line2}` : ""}, {a.postalCode} {a.city}, {a.country}
                {a.default ? " (default)" : ""}
              </li>
            ))}
          </ul>

          <h2>Orders</h2>
          {v.orders.length === 0 ? <p>No orders.</p> : null}
          {v.orders.length > 0 ? (
            <table data-testid="customer-orders">
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Status</th>
                  <th scope="col">Items</th>
                  <th scope="col">Total</th>
                  <th scope="col">Refunded</th>
                </tr>
              </thead>
              <tbody>
                {v.orders.map((o) => (
                  <tr key={o.orderId}>
                    <td>
                      <a href={`#/orders/${encodeURIComponent(o.orderId)}`}>{o.orderId}</a>
                    </td>
                    <td>{when(o.createdAt)}</td>
                    <td>{o.status}</td>
                    <td>{o.items}</td>
                    <td>{money(o.total)}</td>
                    <td>{o.refundedTotal.amount ? money(o.refundedTotal) : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}

          <h2>Notes</h2>
          <NoteForm api={api} customerId={customerId} onAdded={view.reload} />
          <ul data-testid="customer-notes">
            {v.notes.map((n) => (
              <li key={n.noteId} data-testid="customer-note">
                <p>{n.text}</p>
                <small>
                  {n.author === session.sub ? "you" : n.author}, {when(n.createdAt)}
                </small>
              </li>
            ))}
          </ul>
          {v.notes.length === 0 ? <p>No notes yet.</p> : null}
        </div>
      ) : null}
    </section>
  );
}

function NoteForm({ api, customerId, onAdded }: { api: PageProps["api"]; customerId: string; onAdded: () => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: Event) {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await must(
        api.POST("/admin/customers/{customerId}/notes", { params: { path: { customerId } }, body: { text: text.trim() } }),
      );
      setText("");
      onAdded();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="note-form">
      <label>
        New note
        <textarea
          name="text"
          rows={3}
          maxLength={2000}
          required
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          data-testid="note-text"
        />
      </label>
      <button type="submit" disabled={busy} data-testid="note-add">
        Add note
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
