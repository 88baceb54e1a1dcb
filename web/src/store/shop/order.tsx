/**
 * Order `#/orders/:id`: follows the order live — read every 1.5 s until its status is one the workflow
 * leaves only by a person's hand (paid and shipped, rejected, cancelled, refunded) — with its status
 * timeline, lines, totals, tax, shipping, and where the payment and the goods stand.
 */
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { Schema } from "../../shared/api";
import { ErrorNote, Link, Loading, money, navigate } from "../../shared/ui";
import { type PageProps, signInPath, useApp } from "../app";

type Order = Schema["/orders/{orderId}"]["get"]["responses"][200]["content"]["application/json"];
type Status = Order["status"];

const POLL_MS = 1_500;
/** Stop following after this long without a change, so a forgotten tab does not poll forever. */
const IDLE_LIMIT_MS = 10 * 60_000;
/** PAID is followed too: shipping (by staff) moves it on, and the shopper may watch for that. */
const FINAL: Status[] = ["SHIPPED", "REJECTED", "CANCELLED", "REFUNDED"];
const STEPS: Status[] = ["PENDING", "AWAITING_PAYMENT", "PAID", "SHIPPED"];

const LABELS: Record<Status, string> = {
  PENDING: "Placed — holding your items",
  AWAITING_PAYMENT: "Awaiting payment",
  PAID: "Paid",
  SHIPPED: "Shipped",
  REJECTED: "Not accepted",
  CANCELLED: "Cancelled",
  REFUNDED: "Refunded",
  PARTIALLY_REFUNDED: "Partly refunded",
};

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The order, re-read every 1.5 s while it may still change on its own. */
function useLiveOrder(orderId: string): { order: Order | null; error: unknown; live: boolean } {
  const { api } = useApp();
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(true);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastChange = Date.now();
    let last = "";
    const tick = async (): Promise<void> => {
      try {
        const next = await call(api.GET("/orders/{orderId}", { params: { path: { orderId } } }));
        if (stopped) return;
        const stamp = `${next.status}|${next.updatedAt}`;
        if (stamp !== last) lastChange = Date.now();
        last = stamp;
        setOrder(next);
        setError(null);
        if (FINAL.includes(next.status) || Date.now() - lastChange > IDLE_LIMIT_MS) {
          setLive(false);
          return;
        }
      } catch (e) {
        if (stopped) return;
        setError(e); // keep trying: a blip must not freeze the page; the next read clears the note
      }
      timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, orderId]);
  return { order, error, live };
}

function Timeline({ order }: { order: Order }) {
  const reached = new Set(order.history.map((h) => h.status));
  reached.add(order.status);
  const offPath = !STEPS.includes(order.status);
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Progress</h2>
      <ol class="timeline" data-testid="timeline">
        {STEPS.map((step) => (
          <li key={step} data-testid="timeline-step" data-status={step} data-reached={reached.has(step)} aria-current={order.status === step ? "step" : undefined}>
            {reached.has(step) ? "✓ " : "○ "}
            {LABELS[step]}
          </li>
        ))}
        {offPath ? (
          <li data-testid="timeline-step" data-status={order.status} data-reached="true" aria-current="step">
            ✕ {LABELS[order.status]}
          </li>
        ) : null}
      </ol>
      <details>
        <summary>History</summary>
        <ul data-testid="history">
          {order.history.map((h, i) => (
            <li key={i}>
              {when(h.changedAt)} — {LABELS[h.status]}
              {h.reason ? `: ${h.reason}` : ""}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}

export function OrderPage({ params }: PageProps) {
  const { session } = useApp();
  const orderId = params[0] ?? "";
  useEffect(() => {
    if (!session) navigate(signInPath(`/orders/${encodeURIComponent(orderId)}`));
  }, [session, orderId]);
  if (!session) return <Loading label="Taking you to sign in…" />;
  return <OrderView orderId={orderId} />;
}

function OrderView({ orderId }: { orderId: string }) {
  const { order, error, live } = useLiveOrder(orderId);
  if (!order) return error ? <ErrorNote error={error} /> : <Loading label="Loading your order…" />;
  const o = order;
  return (
    <article aria-labelledby="order-heading" data-testid="order" data-order-id={o.orderId}>
      <h1 id="order-heading">Order {o.orderId}</h1>
      <p>
        Status:{" "}
        <strong data-testid="order-status" data-status={o.status} aria-live="polite">
          {o.status}
        </strong>{" "}
        <span class="muted">({LABELS[o.status]})</span>
        {live ? <small class="muted"> · updating live</small> : null}
      </p>
      <ErrorNote error={error} />
      {o.reason ? (
        <p class={o.status === "REJECTED" ? "error" : "muted"} data-testid="order-reason">
          {o.reason}
        </p>
      ) : null}
      {o.shortSkus.length ? (
        <p class="error" data-testid="order-short">
          Not enough stock for {o.shortSkus.map((s) => `${s.sku} (${s.available} of ${s.requested})`).join(", ")}.
        </p>
      ) : null}
      <dl class="facts">
        <dt>Payment</dt>
        <dd data-testid="payment-status">{o.paymentStatus}</dd>
        <dt>Delivery</dt>
        <dd data-testid="fulfillment-status">
          {o.fulfillmentStatus}
          {o.shipment ? ` — ${o.shipment.carrier} ${o.shipment.trackingNumber}, ${when(o.shipment.shippedAt)}` : ""}
        </dd>
        <dt>Placed</dt>
        <dd>{when(o.createdAt)}</dd>
      </dl>
      <Timeline order={o} />
      <section aria-labelledby="lines-heading">
        <h2 id="lines-heading">Items</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Quantity</th>
              <th scope="col">Price</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {o.lines.map((l) => (
              <tr key={l.sku} data-testid="order-line" data-sku={l.sku}>
                <td>
                  <Link to={`/products/${encodeURIComponent(l.productId)}`}>{l.name}</Link> <small class="muted">{l.sku}</small>
                </td>
                <td>{l.quantity}</td>
                <td>{money(l.unitPrice)}</td>
                <td>{money(l.lineTotal)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <dl class="totals">
          <dt>Subtotal</dt>
          <dd data-testid="order-subtotal">{money(o.subtotal)}</dd>
          {o.discount.amount ? (
            <>
              <dt>Discount{o.couponCode ? ` (${o.couponCode})` : ""}</dt>
              <dd data-testid="order-discount">−{money(o.discount)}</dd>
            </>
          ) : null}
          <dt>Shipping{o.shippingMethod ? ` (${o.shippingMethod.name})` : ""}</dt>
          <dd data-testid="order-shipping">{money(o.shipping)}</dd>
          {o.taxLines.length ? (
            o.taxLines.map((t) => (
              <Fragment key={t.rate}>
                <dt>
                  Tax {t.rate}% on {money(t.base)}
                </dt>
                <dd data-testid="order-tax-line">{money(t.amount)}</dd>
              </Fragment>
            ))
          ) : (
            <>
              <dt>Tax</dt>
              <dd>{money(o.tax)}</dd>
            </>
          )}
          <dt>Total</dt>
          <dd data-testid="order-total">
            <strong>{money(o.total)}</strong>
          </dd>
          {o.refundedTotal.amount ? (
            <>
              <dt>Refunded</dt>
              <dd data-testid="order-refunded">{money(o.refundedTotal)}</dd>
            </>
          ) : null}
        </dl>
      </section>
      <section aria-labelledby="ship-heading">
        <h2 id="ship-heading">Delivery address</h2>
        <address>
          {o.shippingAddress.name}
          <br />
          {o.shippingAddress.line1}
          {o.shippingAddress.line2 ? (
            <>
              <br />
              {o.shippingAddress.line2}
            </>
          ) : null}
          <br />
          {o.shippingAddress.postalCode} {o.shippingAddress.city}, {o.shippingAddress.country}
        </address>
      </section>
      <p>
        <Link to="/me/orders">All my orders</Link> · <Link to="/">Keep shopping</Link>
      </p>
    </article>
  );
}
