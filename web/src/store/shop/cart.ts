/**
 * The cart, kept in the browser (localStorage) so it survives reloads and needs no account: only what
 * the shopper chose (SKU, quantity, a name to show). Prices, tax and availability are never stored
 * here — `POST /quotes` answers them fresh each time, so a stale cart cannot show a stale price.
 */
import { useEffect, useState } from "preact/hooks";

import { STORAGE } from "../app";

export interface CartLine {
  sku: string;
  productId: string;
  name: string;
  quantity: number;
}

/** The API's limit per line (`ItemIn.quantity`) is generous; a shop page keeps it humane. */
export const MAX_QUANTITY = 99;
const CHANGED = "storekeeper:cart";

function valid(line: unknown): line is CartLine {
  if (typeof line !== "object" || line === null) return false;
  const l = line as Record<string, unknown>;
  return typeof l.sku === "string" && typeof l.name === "string" && typeof l.quantity === "number" && l.quantity > 0;
}

export function readCart(): CartLine[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE.cart) ?? "[]");
    return Array.isArray(parsed)
      ? parsed.filter(valid).map((l) => ({ ...l, productId: String(l.productId ?? ""), quantity: Math.min(MAX_QUANTITY, Math.floor(l.quantity)) }))
      : [];
  } catch {
    return []; // a corrupt entry (another tab, an old version) is an empty cart, not a broken page
  }
}

function write(lines: CartLine[]): void {
  localStorage.setItem(STORAGE.cart, JSON.stringify(lines));
  window.dispatchEvent(new Event(CHANGED));
}

export function addToCart(line: CartLine): void {
  const lines = readCart();
  const found = lines.find((l) => l.sku === line.sku);
  if (found) found.quantity = Math.min(MAX_QUANTITY, found.quantity + line.quantity);
  else lines.push({ ...line, quantity: Math.min(MAX_QUANTITY, line.quantity) });
  write(lines);
}

/** Sets a line's quantity; zero removes it. */
export function setQuantity(sku: string, quantity: number): void {
  const q = Math.max(0, Math.min(MAX_QUANTITY, Math.floor(quantity)));
  write(readCart().flatMap((l) => (l.sku !== sku ? [l] : q > 0 ? [{ ...l, quantity: q }] : [])));
}

export function clearCart(): void {
  write([]);
}

/** The cart, re-rendered when this tab or another one changes it. */
export function useCart(): CartLine[] {
  const [lines, setLines] = useState<CartLine[]>(readCart);
  useEffect(() => {
    const update = (): void => setLines(readCart());
    const other = (e: StorageEvent): void => {
      if (e.key === STORAGE.cart) update();
    };
    window.addEventListener(CHANGED, update);
    window.addEventListener("storage", other);
    return () => {
      window.removeEventListener(CHANGED, update);
      window.removeEventListener("storage", other);
    };
  }, []);
  return lines;
}
