/**
 * Small pieces both apps share: money formatting, error and loading notes, hash routing.
 *
 * Hash routing (`#/products/p_1`) keeps every route inside one `index.html`, so any static host
 * (S3 + CloudFront, the local stack, Vite's dev server) serves the apps without rewrite rules.
 */
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";

import { ApiError, errorMessage } from "./api";

/** Minor units to a display string: `money({amount: 1999, currency: "EUR"})` → `€19.99`. */
export function money(m: { amount: number; currency: string }): string {
  const currency = m.currency.toUpperCase();
  let digits = 2;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return `${(m.amount / 100).toFixed(2)} ${currency}`;
  }
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(m.amount / 10 ** digits);
}

/** An error shown to the person, with the request id support can look up. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <p class="error" role="alert" data-testid="error">
      {errorMessage(error)}
      {requestId ? <small> (request {requestId})</small> : null}
    </p>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite" data-testid="loading">
      {label}
    </p>
  );
}

function segments(): string[] {
  const path = window.location.hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  return path.split("/").filter(Boolean).map(decodeURIComponent);
}

/** The route's segments: `#/products/p_1` → `["products", "p_1"]`, `#/` → `[]`. */
export function useHashRoute(): string[] {
  const [route, setRoute] = useState<string[]>(segments);
  useEffect(() => {
    const update = (): void => setRoute(segments());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The query part of the hash (`#/?q=mug` → `q=mug`), for filters that survive a reload. */
export function hashQuery(): URLSearchParams {
  const query = window.location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query);
}

/** Goes to an in-app route: `navigate("/products/p_1")`. */
export function navigate(path: string): void {
  window.location.hash = path.startsWith("/") ? path : `/${path}`;
}

/** A link to an in-app route. */
export function Link({ to, children, ...rest }: { to: string; children: ComponentChildren; class?: string; "data-testid"?: string }) {
  return (
    <a href={`#${to.startsWith("/") ? to : `/${to}`}`} {...rest}>
      {children}
    </a>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; stale answers (a newer load started) are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload };
}
