/**
 * `#/orders/:id`: one order as staff need it — lines with their tax, totals, the history with who
 * did what (and which lines came back), refunds, shipment, dispute — and what may be done to it:
 * ship (admin), refund by line or by amount (staff), cancel (staff), and for an order flagged for
 * staff, clear the flag with a note or re-drive its workflow (admin).
 *
 * Every mutating call carries an Idempotency-Key made once per submission (util.useIdempotencyKey),
 * so a retry after a timeout ships, refunds or cancels once. What the API refuses (a refund larger
 * than what is left, shipping a cancelled order) is shown as its error: the page does not try to
 * re-implement the order's rules, only to offer the actions that can apply.
 */
import { useEffect, useState } from "preact/hooks";
import { call, type Schema } from "../../shared/api";
import { ErrorNote, Loading, money, useLoad } from "../../shared/ui";
import type { Api, Role } from "./page";
import { FACTS_STYLE, parseMinor, useIdempotencyKey, when } from "./util";

type OrderOut = Schema["/orders/{orderId}"]["get"]["responses"][200]["content"]["application/json"];
type RefundIn = Schema["/orders/{orderId}/refunds"]["post"]["requestBody"]["content"]["application/json"];

/** States the workflow moves out of on its own: the page follows them until they settle. */
const MOVING = new Set(["PENDING", "AWAITING_PAYMENT"]);
const POLL_MS = 2000;
/** The order's own rules (orders/models.py), only to decide which forms to offer; the API decides. */
const MAY_SHIP = new Set(["PAID", "PARTIALLY_REFUNDED"]);
const REFUNDABLE = new Set(["PAID", "SHIPPED", "PARTIALLY_REFUNDED"]);
const CANCELLABLE = new Set(["PENDING", "AWAITING_PAYMENT", "PAID"]);

/** Units of each SKU refunded so far, from the order's refunds. */
function refundedUnits(order: OrderOut): Map<string, number> {
  const units = new Map<string, number>();
  for (const refund of order.refunds) {
    for (const line of refund.lines) units.set(line.sku, (units.get(line.sku) ?? 0) + line.quantity);
  }
  return units;
}

/** Runs one mutating call with busy/error state; `done` runs after a success. */
function useAction(done: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      done();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}

function ShipForm({ api, orderId, onDone }: { api: Api; orderId: string; onDone: () => void }) {
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const idem = useIdempotencyKey();
  const action = useAction(onDone);

  function submit(event: Event): void {
    event.preventDefault();
    const body = { carrier: carrier.trim(), trackingNumber: tracking.trim() };
    void action.run(async () => {
      await call(api.POST("/orders/{orderId}/shipments", { params: { path: { orderId }, header: { "Idempotency-Key": idem.keyFor(body) } }, body }));
      idem.done();
    });
  }

  return (
    <form class="card" onSubmit={submit} data-testid="ship-form">
      <h2>Ship</h2>
      <div class="row">
        <label>
          Carrier
          <input required maxLength={60} value={carrier} onInput={(e) => setCarrier(e.currentTarget.value)} data-testid="ship-carrier" />
        </label>
        <label>
          Tracking number
          <input required maxLength={100} value={tracking} onInput={(e) => setTracking(e.currentTarget.value)} data-testid="ship-tracking" />
        </label>
        <button type="submit" disabled={action.busy} data-testid="ship-submit">
          Mark shipped
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

type RefundMode = "lines" | "amount" | "rest";

function RefundForm({ api, order, onDone }: { api: Api; order: OrderOut; onDone: () => void }) {
  const refunded = refundedUnits(order);
  const [mode, setMode] = useState<RefundMode>("lines");
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [amount, setAmount] = useState("");
  const [refundShipping, setRefundShipping] = useState(false);
  const [restock, setRestock] = useState(false);
  const [reason, setReason] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const idem = useIdempotencyKey();
  const action = useAction(() => {
    setQuantities({});
    setAmount("");
    setReason("");
    onDone();
  });

  function bodyOf(): RefundIn | string {
    const base = { reason: reason.trim(), restock, refundShipping: false };
    if (mode === "rest") return base;
    if (mode === "amount") {
      const minor = parseMinor(amount);
      if (minor === null || minor === 0) return "Enter an amount like 5.00";
      return { ...base, amount: { amount: minor, currency: order.total.currency } };
    }
    const lines = Object.entries(quantities)
      .map(([sku, q]) => ({ sku, quantity: Number(q) }))
      .filter((l) => Number.isInteger(l.quantity) && l.quantity > 0);
    if (lines.length === 0 && !refundShipping) return "Choose the units to refund, or the shipping";
    return { ...base, lines: lines.length > 0 ? lines : null, refundShipping };
  }

  function submit(event: Event): void {
    event.preventDefault();
    const body = bodyOf();
    if (typeof body === "string") {
      setFormError(body);
      return;
    }
    setFormError(null);
    void action.run(async () => {
      await call(api.POST("/orders/{orderId}/refunds", { params: { path: { orderId: order.orderId }, header: { "Idempotency-Key": idem.keyFor(body) } }, body }));
      idem.done();
    });
  }

  return (
    <form class="card" onSubmit={submit} data-testid="refund-form">
      <h2>Refund</h2>
      <fieldset class="row">
        <legend>Refund what</legend>
        {(
          [
            ["lines", "Units of lines"],
            ["amount", "An amount"],
            ["rest", "Everything not yet refunded"],
          ] as [RefundMode, string][]
        ).map(([value, label]) => (
          <label key={value}>
            <input type="radio" name="refund-mode" value={value} checked={mode === value} onChange={() => setMode(value)} data-testid={`refund-mode-${value}`} /> {label}
          </label>
        ))}
      </fieldset>
      {mode === "lines" && (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Ordered</th>
                <th scope="col">Refunded</th>
                <th scope="col">Refund units</th>
              </tr>
            </thead>
            <tbody>
              {order.lines.map((line) => {
                const left = line.quantity - (refunded.get(line.sku) ?? 0);
                return (
                  <tr key={line.sku}>
                    <td>{line.sku}</td>
                    <td>{line.quantity}</td>
                    <td>{refunded.get(line.sku) ?? 0}</td>
                    <td>
                      <label class="visually-hidden" for={`refund-qty-${line.sku}`}>
                        Units of {line.sku} to refund
                      </label>
                      <input
                        id={`refund-qty-${line.sku}`}
                        type="number"
                        min={0}
                        max={left}
                        disabled={left === 0}
                        value={quantities[line.sku] ?? ""}
                        onInput={(e) => setQuantities((q) => ({ ...q, [line.sku]: e.currentTarget.value }))}
                        data-testid={`refund-qty-${line.sku}`}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <label>
            <input type="checkbox" checked={refundShipping} onChange={(e) => setRefundShipping(e.currentTarget.checked)} data-testid="refund-shipping" /> Also refund
            the shipping ({money(order.shipping)})
          </label>
        </>
      )}
      {mode === "amount" && (
        <label>
          Amount ({order.total.currency})
          <input inputMode="decimal" required value={amount} onInput={(e) => setAmount(e.currentTarget.value)} data-testid="refund-amount" />
        </label>
      )}
      <label>
        <input type="checkbox" checked={restock} onChange={(e) => setRestock(e.currentTarget.checked)} data-testid="refund-restock" /> The goods came back: put them on sale
        again
      </label>
      <label>
        Reason
        <input required maxLength={200} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="refund-reason" />
      </label>
      <button type="submit" disabled={action.busy} data-testid="refund-submit">
        Refund
      </button>
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      <ErrorNote error={action.error} />
    </form>
  );
}

function CancelForm({ api, orderId, onDone }: { api: Api; orderId: string; onDone: () => void }) {
  const [reason, setReason] = useState("");
  const idem = useIdempotencyKey();
  const action = useAction(onDone);

  function submit(event: Event): void {
    event.preventDefault();
    const body = { reason: reason.trim() || null };
    void action.run(async () => {
      await call(api.POST("/orders/{orderId}/cancel", { params: { path: { orderId }, header: { "Idempotency-Key": idem.keyFor(body) } }, body }));
      idem.done();
    });
  }

  return (
    <form class="card" onSubmit={submit} data-testid="cancel-form">
      <h2>Cancel</h2>
      <div class="row">
        <label>
          Reason
          <input maxLength={200} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="cancel-reason" />
        </label>
        <button type="submit" class="danger" disabled={action.busy} data-testid="cancel-submit">
          Cancel order
        </button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

function AttentionBox({ api, order, canAct, onDone }: { api: Api; order: OrderOut; canAct: boolean; onDone: () => void }) {
  const [note, setNote] = useState("");
  const action = useAction(() => {
    setNote("");
    onDone();
  });
  const attention = order.attention;
  if (!attention) return null;
  const orderId = order.orderId;

  return (
    <section class="card attention" role="region" aria-label="Needs attention" data-testid="attention">
      <h2>Needs attention</h2>
      <p>
        {attention.reason} <small>({attention.source}, {when(attention.flaggedAt)})</small>
      </p>
      {canAct && (
        <>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void action.run(() => call(api.POST("/admin/orders/{orderId}/attention/clear", { params: { path: { orderId } }, body: { note: note.trim() } })));
            }}
          >
            <label>
              What was done
              <input required maxLength={300} value={note} onInput={(e) => setNote(e.currentTarget.value)} data-testid="attention-note" />
            </label>
            <button type="submit" disabled={action.busy} data-testid="attention-clear">
              Clear flag
            </button>
          </form>
          <button
            type="button"
            disabled={action.busy}
            onClick={() => void action.run(() => call(api.POST("/admin/orders/{orderId}/redrive", { params: { path: { orderId } } })))}
            data-testid="attention-redrive"
          >
            Re-drive workflow
          </button>
        </>
      )}
      <ErrorNote error={action.error} />
    </section>
  );
}

function Lines({ order }: { order: OrderOut }) {
  return (
    <table data-testid="order-lines">
      <thead>
        <tr>
          <th scope="col">SKU</th>
          <th scope="col">Product</th>
          <th scope="col">Qty</th>
          <th scope="col">Unit</th>
          <th scope="col">Line</th>
          <th scope="col">Discount</th>
          <th scope="col">Tax</th>
          <th scope="col">Net</th>
        </tr>
      </thead>
      <tbody>
        {order.lines.map((line) => (
          <tr key={line.sku} data-testid={`order-line-${line.sku}`}>
            <td>{line.sku}</td>
            <td>{line.name}</td>
            <td>{line.quantity}</td>
            <td>{money(line.unitPrice)}</td>
            <td>{money(line.lineTotal)}</td>
            <td>{line.discount ? money(line.discount) : "—"}</td>
            <td>
              {line.tax ? money(line.tax) : "—"}
              {line.taxRate ? ` (${line.taxRate}%)` : ""}
            </td>
            <td>{line.net ? money(line.net) : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Totals({ order }: { order: OrderOut }) {
  return (
    <dl class="facts" style={FACTS_STYLE} data-testid="order-totals">
      <dt>Subtotal</dt>
      <dd>{money(order.subtotal)}</dd>
      <dt>Discount{order.couponCode ? ` (${order.couponCode})` : ""}</dt>
      <dd>{money(order.discount)}</dd>
      <dt>Shipping{order.shippingMethod ? ` (${order.shippingMethod.name})` : ""}</dt>
      <dd>{money(order.shipping)}</dd>
      <dt>Tax</dt>
      <dd>
        {money(order.tax)}
        {order.taxLines.length > 0 && (
          <small>
            {" "}
            ({order.taxLines.map((t) => `${t.rate}% of ${money(t.base)}: ${money(t.amount)}`).join("; ")})
          </small>
        )}
      </dd>
      <dt>Total</dt>
      <dd data-testid="order-total">{money(order.total)}</dd>
      <dt>Refunded</dt>
      <dd data-testid="order-refunded">{money(order.refundedTotal)}</dd>
    </dl>
  );
}

function History({ order }: { order: OrderOut }) {
  return (
    <ol class="history" data-testid="order-history">
      {order.history.map((change, i) => (
        <li key={i}>
          <strong>{change.status}</strong> {when(change.changedAt)}
          {change.actor && <span> by {change.actor.email ?? change.actor.id}</span>}
          {change.reason && <span> — {change.reason}</span>}
          {change.lines && change.lines.length > 0 && <span> (returned: {change.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")})</span>}
        </li>
      ))}
    </ol>
  );
}

function Refunds({ order }: { order: OrderOut }) {
  if (order.refunds.length === 0) return <p>No refunds.</p>;
  return (
    <ul data-testid="order-refunds">
      {order.refunds.map((r) => (
        <li key={r.refundId} data-testid="order-refund">
          {when(r.createdAt)}: <strong>{money(r.amount)}</strong> — {r.reason}
          {r.restock && " (restocked)"}
          {r.lines.length > 0 && <span>; lines: {r.lines.map((l) => `${l.quantity} × ${l.sku} (${money(l.amount)}, tax ${money(l.tax)})`).join(", ")}</span>}
          {r.shipping && <span>; shipping {money(r.shipping)}</span>}
        </li>
      ))}
    </ul>
  );
}

export function OrderDetail({ api, role, orderId }: { api: Api; role: Role; orderId: string }) {
  const loaded = useLoad(() => call(api.GET("/orders/{orderId}", { params: { path: { orderId } } })), [orderId]);
  const order = loaded.data;
  const reload = loaded.reload;

  // Follow an order the workflow is still moving (payment, a requested cancellation) until it settles.
  const moving = order !== undefined && (MOVING.has(order.status) || order.cancellationRequested);
  useEffect(() => {
    if (!moving || loaded.loading) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [moving, loaded.loading, order, reload]);

  if (order === undefined) {
    return (
      <section>
        <p>
          <a href="#/orders">← Orders</a>
        </p>
        {loaded.loading ? <Loading /> : <ErrorNote error={loaded.error} />}
      </section>
    );
  }

  const admin = role === "admin";
  const canShip = admin && MAY_SHIP.has(order.status) && order.shipment === null;
  const canRefund = REFUNDABLE.has(order.status);
  const canCancel = CANCELLABLE.has(order.status) && !order.cancellationRequested;
  const address = order.shippingAddress;

  return (
    <section data-testid="order-detail">
      <p>
        <a href="#/orders">← Orders</a>
      </p>
      <h1>
        Order <code>{order.orderId}</code>
      </h1>
      <p class="row">
        <span>
          Status <strong data-testid="order-status">{order.status}</strong>
        </span>
        <span>Payment {order.paymentStatus}</span>
        <span>Fulfilment {order.fulfillmentStatus}</span>
        {order.cancellationRequested && <span>cancellation requested</span>}
        <button type="button" onClick={reload} data-testid="order-refresh">
          Refresh
        </button>
      </p>
      <p>
        Customer <a href={`#/customers/${encodeURIComponent(order.customerId)}`}>{order.customerId}</a>, placed {when(order.createdAt)}
        {order.affiliateCode && <span>, via affiliate {order.affiliateCode}</span>}
        {order.reason && <span>. {order.reason}</span>}
      </p>
      <ErrorNote error={loaded.error} />
      <AttentionBox api={api} order={order} canAct={admin} onDone={reload} />
      <Lines order={order} />
      <Totals order={order} />
      <h2>Ship to</h2>
      <address data-testid="order-address">
        {address.name}
        <br />
        {address.line1}
        {address.line2 && (
          <>
            <br />
            {address.line2}
          </>
        )}
        <br />
        {address.postalCode} {address.city}, {address.country}
      </address>
      {order.shipment && (
        <p data-testid="order-shipment">
          Shipped {when(order.shipment.shippedAt)} with {order.shipment.carrier}, tracking {order.shipment.trackingNumber}
        </p>
      )}
      {order.dispute && (
        <p class="error" data-testid="order-dispute">
          Dispute {order.dispute.status}: {money(order.dispute.amount)} {order.dispute.reason ?? ""}
          {order.dispute.openedAt && ` (opened ${when(order.dispute.openedAt)})`}
        </p>
      )}
      <h2>History</h2>
      <History order={order} />
      <h2>Refunds</h2>
      <Refunds order={order} />
      {canShip && <ShipForm api={api} orderId={order.orderId} onDone={reload} />}
      {canRefund && <RefundForm key={order.refunds.length} api={api} order={order} onDone={reload} />}
      {canCancel && <CancelForm api={api} orderId={order.orderId} onDone={reload} />}
    </section>
  );
}
