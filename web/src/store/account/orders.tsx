/**
 * `#/me/orders`: the shopper's orders, newest first, a page at a time (GET /me/orders with the
 * API's cursor), each linking to its order page (`#/orders/:id`), with cancel while the order is
 * still open (PENDING, AWAITING_PAYMENT or PAID — orders' `OPEN`; the API answers `not_cancellable`
 * for anything else, which the row then shows).
 *
 * A cancel carries an Idempotency-Key made once per order and reused on a retry, so a click whose
 * answer was lost cannot ask twice. The API answers 202: the workflow does the undoing (payment, stock)
 * and marks the order CANCELLED later, so the row says "cancellation under way" and reads the order
 * every second, within a deadline, until it has left the open statuses.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { components } from "../../shared/schema";
import { ErrorNote, Link, Loading, money } from "../../shared/ui";
import { useApp } from "../app";
import { AccountPage, idempotencyKey, when } from "./shell";

type OrderSummary = components["schemas"]["OrderSummary"];
type OrderOut = components["schemas"]["OrderOut"];
type OrderStatus = components["schemas"]["OrderStatus"];

const PAGE_SIZE = 20;
const CANCELLABLE: ReadonlySet<OrderStatus> = new Set<OrderStatus>(["PENDING", "AWAITING_PAYMENT", "PAID"]);
const FOLLOW_EVERY_MS = 1000;
const FOLLOW_FOR_MS = 60_000;

function summaryOf(order: OrderSummary, updated: OrderOut): OrderSummary {
  return {
    ...order,
    status: updated.status,
    paymentStatus: updated.paymentStatus,
    fulfillmentStatus: updated.fulfillmentStatus,
  };
}

export function MyOrdersPage() {
  return (
    <AccountPage path="/me/orders" title="My orders">
      <OrderList />
    </AccountPage>
  );
}

function OrderList() {
  const { api, session } = useApp();
  const [orders, setOrders] = useState<OrderSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function more(from: string | null): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const page = await call(api.GET("/me/orders", { params: { query: { limit: PAGE_SIZE, cursor: from } } }));
      setOrders((kept) => (from === null ? page.items : [...kept, ...page.items]));
      setCursor(page.nextCursor);
      setDone(page.nextCursor === null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    void more(null);
  }, [session?.sub]);

  function replace(order: OrderSummary): void {
    setOrders((kept) => kept.map((o) => (o.orderId === order.orderId ? order : o)));
  }

  return (
    <>
      {busy && orders.length === 0 ? <Loading /> : null}
      <ErrorNote error={error} />
      {!busy && !error && orders.length === 0 ? (
        <p data-testid="no-orders">
          No orders yet. <Link to="/">Start shopping</Link>
        </p>
      ) : null}
      {orders.length > 0 ? (
        <table data-testid="my-orders">
          <caption class="visually-hidden">Your orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <OrderRow key={order.orderId} order={order} onChange={replace} />
            ))}
          </tbody>
        </table>
      ) : null}
      {!done && orders.length > 0 ? (
        <button type="button" disabled={busy} onClick={() => void more(cursor)} data-testid="orders-more">
          {busy ? "Loading…" : "Show older orders"}
        </button>
      ) : null}
    </>
  );
}

function OrderRow({ order, onChange }: { order: OrderSummary; onChange: (order: OrderSummary) => void }) {
  const { api } = useApp();
  // One key per order's cancellation, kept across retries of it (a lost answer must not ask twice).
  const [key] = useState(() => idempotencyKey(`cancel:${order.orderId}`.slice(0, 80)));
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [underWay, setUnderWay] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  /** Reads the order until the workflow has taken it out of the open statuses (or the deadline passes). */
  async function follow(): Promise<void> {
    const until = Date.now() + FOLLOW_FOR_MS;
    while (live.current && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
      if (!live.current) return;
      try {
        const now = await call(api.GET("/orders/{orderId}", { params: { path: { orderId: order.orderId } } }));
        if (!CANCELLABLE.has(now.status)) {
          onChange(summaryOf(order, now));
          return;
        }
      } catch {
        // A missed read is retried on the next tick; the deadline ends it.
      }
    }
  }

  async function cancel(): Promise<void> {
    setAsking(false);
    setBusy(true);
    setError(null);
    try {
      const updated = await call(
        api.POST("/orders/{orderId}/cancel", {
          params: { path: { orderId: order.orderId }, header: { "Idempotency-Key": key } },
          body: { reason: "Cancelled by the customer in the storefront" },
        }),
      );
      onChange(summaryOf(order, updated));
      if (CANCELLABLE.has(updated.status)) {
        setUnderWay(true);
        await follow();
        if (live.current) setUnderWay(false);
      }
    } catch (e) {
      setError(e);
    } finally {
      if (live.current) setBusy(false);
    }
  }

  const idKey = key.replace(/[^A-Za-z0-9]/g, "");
  return (
    <tr data-testid="my-order" data-order-id={order.orderId}>
      <th scope="row">
        <Link to={`/orders/${encodeURIComponent(order.orderId)}`} data-testid="my-order-link">
          {order.orderId}
        </Link>
      </th>
      <td>{when(order.createdAt)}</td>
      <td>{order.items}</td>
      <td>{money(order.total)}</td>
      <td data-testid="my-order-status" aria-live="polite">
        {order.status}
        {order.fulfillmentStatus === "SHIPPED" && order.status !== "SHIPPED" ? " (shipped)" : null}
        {underWay ? <small data-testid="my-order-cancelling"> (cancellation under way)</small> : null}
      </td>
      <td>
        {CANCELLABLE.has(order.status) && asking && !underWay ? (
          <span role="group" aria-label={`Cancel order ${order.orderId}?`}>
            <button type="button" class="danger" onClick={() => void cancel()} data-testid="my-order-cancel-confirm">
              Yes, cancel it
            </button>{" "}
            <button type="button" onClick={() => setAsking(false)} data-testid="my-order-cancel-keep">
              Keep it
            </button>
          </span>
        ) : null}
        {CANCELLABLE.has(order.status) && !asking && !underWay ? (
          <button
            type="button"
            disabled={busy}
            onClick={() => setAsking(true)}
            aria-describedby={error ? `cancel-error-${idKey}` : undefined}
            data-testid="my-order-cancel"
          >
            {busy ? "Cancelling…" : "Cancel"}
          </button>
        ) : null}
        {error ? (
          <div id={`cancel-error-${idKey}`}>
            <ErrorNote error={error} />
          </div>
        ) : null}
      </td>
    </tr>
  );
}
