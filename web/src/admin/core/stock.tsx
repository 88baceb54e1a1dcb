/**
 * `#/stock` and `#/stock/:sku`: stock levels with a low-stock view, and per SKU its threshold, the
 * ledger of every adjustment, and a form to adjust it.
 *
 * Support may read all of this; only admin may change a threshold or adjust (the API's own rule),
 * so support sees no forms. An adjustment carries an Idempotency-Key: a retried "restock 10" after a
 * timeout must not become 20.
 */
import { useState } from "preact/hooks";
import { call, type Schema } from "../../shared/api";
import { ErrorNote, Loading, navigate, useLoad } from "../../shared/ui";
import type { Api, PageProps } from "./page";
import { FACTS_STYLE, useIdempotencyKey, when } from "./util";

type StockOut = Schema["/inventory/{sku}"]["get"]["responses"][200]["content"]["application/json"];
type StockReason = Schema["/inventory/{sku}/adjustments"]["post"]["requestBody"]["content"]["application/json"]["reason"];

const REASONS: StockReason[] = ["restock", "shrinkage", "correction", "return"];

function StockList({ api }: { api: Api }) {
  const [lowOnly, setLowOnly] = useState(false);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const [jump, setJump] = useState("");
  const cursor = pages[pages.length - 1] ?? null;
  const loaded = useLoad(
    () => call(api.GET("/inventory", { params: { query: { lowStock: lowOnly, cursor: cursor ?? undefined, limit: 50 } } })),
    [lowOnly, cursor],
  );
  const items: StockOut[] = loaded.data?.items ?? [];

  return (
    <section>
      <h1>Stock</h1>
      <div class="row">
        <label>
          <input
            type="checkbox"
            checked={lowOnly}
            onChange={(e) => {
              setPages([null]);
              setLowOnly(e.currentTarget.checked);
            }}
            data-testid="stock-low-only"
          />{" "}
          Only low stock
        </label>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (jump.trim()) navigate(`/stock/${encodeURIComponent(jump.trim().toUpperCase())}`);
          }}
        >
          <label>
            SKU
            <input value={jump} onInput={(e) => setJump(e.currentTarget.value)} data-testid="stock-sku-input" />
          </label>
          <button type="submit" data-testid="stock-sku-open">
            Open
          </button>
        </form>
      </div>
      <ErrorNote error={loaded.error} />
      {loaded.loading ? (
        <Loading />
      ) : (
        <table data-testid="stock-list">
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Available</th>
              <th scope="col">Reserved</th>
              <th scope="col">Sold</th>
              <th scope="col">On hand</th>
              <th scope="col">Low at</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.sku} class={s.lowStock ? "low" : undefined} data-testid={`stock-row-${s.sku}`}>
                <td>
                  <a href={`#/stock/${encodeURIComponent(s.sku)}`}>{s.sku}</a>
                  {s.lowStock && <strong class="badge"> low</strong>}
                </td>
                <td>{s.available}</td>
                <td>{s.reserved}</td>
                <td>{s.sold}</td>
                <td>{s.onHand}</td>
                <td>{s.lowStockThreshold}</td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={6}>{lowOnly ? "Nothing is low." : "No stock yet."}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <div class="row">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Previous
        </button>
        <button type="button" disabled={!loaded.data?.nextCursor} onClick={() => setPages((p) => [...p, loaded.data?.nextCursor ?? null])}>
          Next
        </button>
      </div>
    </section>
  );
}

function ThresholdForm({ api, stock, onSaved }: { api: Api; stock: StockOut; onSaved: () => void }) {
  const [value, setValue] = useState(String(stock.lowStockThreshold));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(api.PUT("/inventory/{sku}", { params: { path: { sku: stock.sku } }, body: { lowStockThreshold: Number(value) } }));
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="row" onSubmit={submit} data-testid="threshold-form">
      <label>
        Low-stock threshold
        <input type="number" min={0} max={1000000} required value={value} onInput={(e) => setValue(e.currentTarget.value)} data-testid="threshold-input" />
      </label>
      <button type="submit" disabled={busy} data-testid="threshold-save">
        Save threshold
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function AdjustForm({ api, sku, onDone }: { api: Api; sku: string; onDone: () => void }) {
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState<StockReason>("restock");
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idem = useIdempotencyKey();

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = { delta: Number(delta), reason, note: note.trim() || null };
    try {
      await call(
        api.POST("/inventory/{sku}/adjustments", { params: { path: { sku }, header: { "Idempotency-Key": idem.keyFor(body) } }, body }),
      );
      idem.done();
      setDelta("");
      setNote("");
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card" onSubmit={submit} data-testid="adjust-form">
      <h2>Adjust stock</h2>
      <div class="row">
        <label>
          Change (+ adds, − removes)
          <input type="number" step={1} required value={delta} onInput={(e) => setDelta(e.currentTarget.value)} data-testid="adjust-delta" />
        </label>
        <label>
          Reason
          <select value={reason} onChange={(e) => setReason(e.currentTarget.value as StockReason)} data-testid="adjust-reason">
            {REASONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Note
          <input maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} data-testid="adjust-note" />
        </label>
        <button type="submit" disabled={busy || delta === "" || Number(delta) === 0} data-testid="adjust-submit">
          Adjust
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

function Ledger({ api, sku, version }: { api: Api; sku: string; version: number }) {
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const cursor = pages[pages.length - 1] ?? null;
  const loaded = useLoad(
    () => call(api.GET("/inventory/{sku}/ledger", { params: { path: { sku }, query: { cursor: cursor ?? undefined, limit: 50 } } })),
    [sku, cursor, version],
  );
  const items = loaded.data?.items ?? [];
  return (
    <section>
      <h2>Ledger</h2>
      <ErrorNote error={loaded.error} />
      {loaded.loading ? (
        <Loading />
      ) : (
        <table data-testid="ledger">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Change</th>
              <th scope="col">Reason</th>
              <th scope="col">Note</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.adjustmentId} data-testid="ledger-row">
                <td>{when(entry.createdAt)}</td>
                <td>{entry.delta > 0 ? `+${entry.delta}` : entry.delta}</td>
                <td>{entry.reason}</td>
                <td>{entry.note ?? ""}</td>
                <td>{entry.actor}</td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={5}>No adjustments yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <div class="row">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!loaded.data?.nextCursor} onClick={() => setPages((p) => [...p, loaded.data?.nextCursor ?? null])}>
          Older
        </button>
      </div>
    </section>
  );
}

function StockDetail({ api, sku, canChange }: { api: Api; sku: string; canChange: boolean }) {
  const [version, setVersion] = useState(0);
  const loaded = useLoad(() => call(api.GET("/inventory/{sku}", { params: { path: { sku } } })), [sku, version]);
  const changed = (): void => setVersion((v) => v + 1);
  const stock = loaded.data;

  return (
    <section data-testid="stock-detail">
      <p>
        <a href="#/stock">← Stock</a>
      </p>
      <div class="row">
        <h1>{sku}</h1>
        <button type="button" class="secondary" onClick={changed} data-testid="stock-refresh">
          Refresh
        </button>
      </div>
      {/* A new product's stock record is created just after the product: a 404 here is often "not yet". */}
      <ErrorNote error={loaded.error} />
      {stock === undefined ? (
        loaded.loading && <Loading />
      ) : (
        <>
          <dl class="facts" style={FACTS_STYLE}>
            <dt>Available</dt>
            <dd data-testid="stock-available">{stock.available}</dd>
            <dt>Reserved</dt>
            <dd data-testid="stock-reserved">{stock.reserved}</dd>
            <dt>Sold</dt>
            <dd data-testid="stock-sold">{stock.sold}</dd>
            <dt>On hand</dt>
            <dd data-testid="stock-onhand">{stock.onHand}</dd>
            <dt>Low-stock threshold</dt>
            <dd data-testid="stock-threshold">
              {stock.lowStockThreshold}
              {stock.lowStock && <strong class="badge"> low</strong>}
            </dd>
          </dl>
          {canChange && (
            <>
              <ThresholdForm key={`${sku}-${stock.lowStockThreshold}`} api={api} stock={stock} onSaved={changed} />
              <AdjustForm api={api} sku={sku} onDone={changed} />
            </>
          )}
        </>
      )}
      <Ledger api={api} sku={sku} version={version} />
    </section>
  );
}

export function StockPage({ api, role, params }: PageProps) {
  const sku = params[0];
  return sku ? <StockDetail api={api} sku={sku} canChange={role === "admin"} /> : <StockList api={api} />;
}
