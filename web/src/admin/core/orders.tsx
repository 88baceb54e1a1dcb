/**
 * `#/orders`: orders by status, customer, buyer's email and creation days, or the ones flagged for
 * staff (`#/orders?attention=true`: the filters live in the hash); `#/orders/:id` is the order's own
 * page (order.tsx).
 *
 * `GET /admin/orders` reads one index and filters the rest, so a page can be short (even empty)
 * while `nextCursor` goes on: the list says so instead of pretending the search ended.
 */
import { useEffect, useState } from "preact/hooks";
import { call, type Schema } from "../../shared/api";
import { ErrorNote, hashQuery, Loading, money, navigate, useLoad } from "../../shared/ui";
import { OrderDetail } from "./order";
import type { Api, PageProps } from "./page";
import { when } from "./util";

type OrderQuery = NonNullable<Schema["/admin/orders"]["get"]["parameters"]["query"]>;
type OrderStatus = NonNullable<OrderQuery["status"]>;

export const ORDER_STATUSES: OrderStatus[] = [
  "PENDING",
  "AWAITING_PAYMENT",
  "PAID",
  "SHIPPED",
  "PARTIALLY_REFUNDED",
  "REFUNDED",
  "CANCELLED",
  "REJECTED",
];

interface Filters {
  status: OrderStatus | "";
  customerId: string;
  email: string;
  from: string;
  to: string;
  attention: boolean;
}

const DEFAULT_FILTERS: Filters = { status: "PAID", customerId: "", email: "", from: "", to: "", attention: false };

function queryOf(f: Filters): OrderQuery {
  return {
    status: f.status || undefined,
    customerId: f.customerId.trim() || undefined,
    email: f.email.trim() || undefined,
    from: f.from || undefined,
    to: f.to || undefined,
    attention: f.attention || undefined,
  };
}

/** The filters the hash names (`#/orders?status=PAID&email=…`), so a reload or Back keeps the search. */
function filtersFromHash(): Filters {
  const q = hashQuery();
  if ([...q.keys()].length === 0) return DEFAULT_FILTERS;
  const status = q.get("status") ?? "";
  return {
    status: (ORDER_STATUSES as string[]).includes(status) ? (status as OrderStatus) : "",
    customerId: q.get("customerId") ?? "",
    email: q.get("email") ?? "",
    from: q.get("from") ?? "",
    to: q.get("to") ?? "",
    attention: q.get("attention") === "true",
  };
}

function hashOf(f: Filters): string {
  const q = new URLSearchParams();
  q.set("status", f.status);
  for (const key of ["customerId", "email", "from", "to"] as const) if (f[key].trim()) q.set(key, f[key].trim());
  if (f.attention) q.set("attention", "true");
  return `/orders?${q.toString()}`;
}

function OrderList({ api }: { api: Api }) {
  const filters = filtersFromHash();
  const named = JSON.stringify(filters);
  const [draft, setDraft] = useState<Filters>(filters);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  useEffect(() => {
    setDraft(filtersFromHash());
    setPages([null]);
  }, [named]);
  const cursor = pages[pages.length - 1] ?? null;
  const loaded = useLoad(
    () => call(api.GET("/admin/orders", { params: { query: { ...queryOf(filters), cursor: cursor ?? undefined, limit: 50 } } })),
    [named, cursor],
  );
  const set = (patch: Partial<Filters>): void => setDraft((d) => ({ ...d, ...patch }));
  const items = loaded.data?.items ?? [];

  return (
    <section>
      <h1>Orders</h1>
      <form
        class="filters row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const target = hashOf(draft);
          if (target === hashOf(filters)) {
            setPages([null]);
            loaded.reload();
          } else {
            navigate(target);
          }
        }}
        data-testid="order-filters"
      >
        <label>
          Status
          <select value={draft.status} onChange={(e) => set({ status: e.currentTarget.value as OrderStatus | "" })} data-testid="order-status-filter">
            <option value="">any (with customer or email)</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer id
          <input value={draft.customerId} onInput={(e) => set({ customerId: e.currentTarget.value })} data-testid="order-customer-filter" />
        </label>
        <label>
          Email
          <input type="email" value={draft.email} onInput={(e) => set({ email: e.currentTarget.value })} data-testid="order-email-filter" />
        </label>
        <label>
          From
          <input type="date" value={draft.from} onInput={(e) => set({ from: e.currentTarget.value })} data-testid="order-from-filter" />
        </label>
        <label>
          To
          <input type="date" value={draft.to} onInput={(e) => set({ to: e.currentTarget.value })} data-testid="order-to-filter" />
        </label>
        <label>
          <input type="checkbox" checked={draft.attention} onChange={(e) => set({ attention: e.currentTarget.checked })} data-testid="order-attention-filter" />{" "}
          Needs attention only
        </label>
        <button type="submit" data-testid="order-search">
          Search
        </button>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.loading ? (
        <Loading />
      ) : (
        <table data-testid="order-list">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col">Payment</th>
              <th scope="col">Fulfilment</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {items.map((o) => (
              <tr key={o.orderId} data-testid={`order-row-${o.orderId}`}>
                <td>
                  <a href={`#/orders/${encodeURIComponent(o.orderId)}`}>{o.orderId}</a>
                  {o.needsAttention && <strong class="badge"> needs attention</strong>}
                </td>
                <td>{when(o.createdAt)}</td>
                <td>{o.status}</td>
                <td>{o.paymentStatus}</td>
                <td>{o.fulfillmentStatus}</td>
                <td>{o.items}</td>
                <td>{money(o.total)}</td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={7}>{loaded.data?.nextCursor ? "None on this page; there may be more on the next." : "No orders match."}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <div class="row">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Previous
        </button>
        <button type="button" disabled={!loaded.data?.nextCursor} onClick={() => setPages((p) => [...p, loaded.data?.nextCursor ?? null])} data-testid="order-next">
          Next
        </button>
      </div>
    </section>
  );
}

export function OrdersPage({ api, role, params }: PageProps) {
  const orderId = params[0];
  return orderId ? <OrderDetail api={api} role={role} orderId={orderId} /> : <OrderList api={api} />;
}
