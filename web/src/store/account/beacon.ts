/**
 * The visit beacon: one `POST /analytics/visits` per route the shopper opens.
 *
 * What it sends and why:
 * - `sessionId` (sessionStorage) and `visitorId` (localStorage `storekeeper.visitor`, made once): the
 *   analytics domain counts sessions and ties an order to the visitor's affiliate click through the
 *   `attribution.visitorId` checkout sends — so both must be the same ids the beacon used.
 * - the UTM labels of the *landing* URL (`utm_source`/`utm_medium`/`utm_campaign`), kept in localStorage
 *   `storekeeper.utm` so later visits and the checkout still carry the campaign the shopper came from.
 * - `ref` from a `?ref=<code>` link, kept in localStorage `storekeeper.ref` for the checkout's
 *   `affiliateCode`; it is sent only with the visit that arrived with it (that visit is the click).
 *
 * The beacon never gets in the shopper's way: it is fire-and-forget, times out, and swallows every
 * failure (a lost visit is a rounding error in a report; a broken page is a lost sale).
 */
import { useEffect } from "preact/hooks";

import type { Config } from "../../shared/config";
import { STORAGE } from "../app";

const VISITOR_KEY = STORAGE.visitor;
const SESSION_KEY = "storekeeper.visit"; // not "storekeeper.session": that key holds the sign-in (shared/auth.ts)
const UTM_KEY = STORAGE.utm;
const REF_KEY = STORAGE.ref;
// Generous: nobody waits for a beacon, and a cold analytics function (the landing visit is often the
// first request it sees) may take seconds; a short timeout lost exactly the visit that carries the labels.
const TIMEOUT_MS = 30000;

/** The request model's patterns (docs/openapi.json `VisitIn`): a value that fails them would cost the whole visit a 422. */
const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const LABEL_PATTERN = /^[\w .:/+-]{1,60}$/;
const REF_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;
const PATH_PATTERN = /^\/[^\s?#]{0,199}$/;
const PRODUCT_PATTERN = /^p_[0-9a-z]{26}$/;

export interface UtmLabels {
  source: string | null;
  medium: string | null;
  campaign: string | null;
}

/** Storage can throw (private windows, disabled storage): the beacon then works without memory. */
function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string): void {
  try {
    storage().setItem(key, value);
  } catch {
    // Nowhere to keep it: this page load still uses the value.
  }
}

/** 32 hex characters from the CSPRNG; `crypto.randomUUID` needs a secure context, this does not. */
function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function keptId(storage: () => Storage, key: string): string {
  const kept = read(storage, key);
  if (kept !== null && ID_PATTERN.test(kept)) return kept;
  const made = randomId();
  write(storage, key, made);
  return made;
}

/** The browser's long-lived visitor id, created on first use. */
export function visitorId(): string {
  return keptId(() => localStorage, VISITOR_KEY);
}

function sessionId(): string {
  return keptId(() => sessionStorage, SESSION_KEY);
}

/** The campaign labels the shopper landed with (kept from the landing URL). */
export function utmLabels(): UtmLabels {
  const empty: UtmLabels = { source: null, medium: null, campaign: null };
  const kept = read(() => localStorage, UTM_KEY);
  if (kept === null) return empty;
  try {
    const parsed = JSON.parse(kept) as Partial<Record<keyof UtmLabels, unknown>>;
    const label = (v: unknown): string | null => (typeof v === "string" && LABEL_PATTERN.test(v) ? v : null);
    return { source: label(parsed.source), medium: label(parsed.medium), campaign: label(parsed.campaign) };
  } catch {
    return empty;
  }
}

/**
 * The landing URL's query: before the hash (`/?ref=x#/`), or inside a hash route (`#/?utm_source=x`),
 * since a link may be written either way.
 */
function landingParams(): URLSearchParams {
  const params = new URLSearchParams(window.location.search);
  const hash = window.location.hash;
  const q = hash.indexOf("?");
  if (q >= 0) {
    new URLSearchParams(hash.slice(q + 1)).forEach((value, key) => {
      if (!params.has(key)) params.set(key, value);
    });
  }
  return params;
}

let landingRef: string | null = null;
let landed = false;
let lastPath: string | null = null;

/** Keep the landing URL's labels and referral code, once per page load. */
function captureLanding(): void {
  if (landed) return;
  landed = true;
  const params = landingParams();
  const label = (name: string): string | null => {
    const v = params.get(name)?.trim() ?? "";
    return LABEL_PATTERN.test(v) ? v : null;
  };
  const utm: UtmLabels = { source: label("utm_source"), medium: label("utm_medium"), campaign: label("utm_campaign") };
  // A new campaign link replaces the old labels as a whole (last touch), a plain visit keeps them.
  if (utm.source !== null || utm.medium !== null || utm.campaign !== null) {
    write(() => localStorage, UTM_KEY, JSON.stringify(utm));
  }
  const ref = params.get("ref")?.trim() ?? "";
  if (REF_PATTERN.test(ref)) {
    landingRef = ref;
    write(() => localStorage, REF_KEY, ref);
  }
}

/** The hash route as the API's `path` (`#/products/p_1?x=y` → `/products/p_1`). */
function currentPath(): string {
  const route = window.location.hash.replace(/^#/, "").split("?")[0] ?? "";
  const path = route.startsWith("/") ? route : `/${route}`;
  const clean = path.replace(/\s/g, "").slice(0, 200);
  return PATH_PATTERN.test(clean) ? clean : "/";
}

/** Count the route the shopper is on now; call on every route change (repeats of one route are sent once). */
export function trackVisit(config: Config): void {
  try {
    captureLanding();
    const path = currentPath();
    if (path === lastPath) return;
    lastPath = path;
    const segments = path.split("/");
    const productId = segments[1] === "products" && PRODUCT_PATTERN.test(segments[2] ?? "") ? segments[2] : null;
    const ref = landingRef;
    landingRef = null; // the click is the landing visit only
    const body = {
      sessionId: sessionId(),
      visitorId: visitorId(),
      path,
      productId,
      ...utmLabels(),
      ref,
    };
    void fetch(`${config.apiUrl.replace(/\/+$/, "")}/analytics/visits`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      keepalive: true,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch(() => undefined);
  } catch {
    // Never let analytics break the page.
  }
}

/** The shell's hook: counts the landing route and every route change after it. */
export function useVisitBeacon(config: Config): void {
  useEffect(() => {
    const track = (): void => trackVisit(config);
    track();
    window.addEventListener("hashchange", track);
    return () => window.removeEventListener("hashchange", track);
  }, [config]);
}
