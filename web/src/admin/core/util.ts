/**
 * Small helpers the console's pages share: idempotency keys that survive a retry, and money typed by
 * staff in major units.
 */
import { useRef } from "preact/hooks";

/** The shared `call` under the name the console's pages first used: the body, or an ApiError thrown. */
export { call as must } from "../../shared/api";

function randomKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * An `Idempotency-Key` per form submission. Submitting the same body again (a retry after a timeout
 * or a 503) reuses the key, so the API acts once; a changed body gets a fresh key, because the API
 * answers a reused key with a different body with 409 `idempotency_key_reused`. Call `done()` after
 * a success so the next submission, even an identical one (a second restock of 5), is a new act.
 */
export function useIdempotencyKey(): { keyFor: (body: unknown) => string; done: () => void } {
  const last = useRef<{ key: string; body: string } | null>(null);
  return {
    keyFor(body: unknown): string {
      const text = JSON.stringify(body ?? null);
      if (last.current === null || last.current.body !== text) {
        last.current = { key: randomKey(), body: text };
      }
      return last.current.key;
    },
    done(): void {
      last.current = null;
    },
  };
}

/** "12.5" or "12,50" in major units to minor units; null when it is not a non-negative amount. */
export function parseMinor(text: string): number | null {
  const clean = text.trim().replace(",", ".");
  if (!/^\d+(\.\d{0,2})?$/.test(clean)) return null;
  const [whole, frac = ""] = clean.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** Minor units back to the text a staff member would type ("12.50"). */
export function formatMinor(amount: number): string {
  return (amount / 100).toFixed(2);
}

/** A timestamp as the staff member's local date and time, short. */
export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Facts as a two-column grid (`<dl>`: term, value), without a stylesheet of the console's own. */
export const FACTS_STYLE = { display: "grid", gridTemplateColumns: "max-content auto", gap: "0.2rem 1.5rem", margin: "1rem 0" };
