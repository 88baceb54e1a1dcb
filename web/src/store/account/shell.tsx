/**
 * What every account page shares: the props the storefront's router hands them, the account nav,
 * and the sign-in gate.
 *
 * The gate is a courtesy, not the guard: the API answers 401 without a valid ID token. It sends
 * the shopper to `#/signin?next=<this page>` so signing in lands back where they were going.
 */
import type { ComponentChildren } from "preact";

import { Link } from "../../shared/ui";
import { signInPath, useApp } from "../app";

const PAGES: [string, string][] = [
  ["/me", "Profile"],
  ["/me/orders", "My orders"],
  ["/me/addresses", "Addresses"],
  ["/me/offers", "Offers"],
  ["/me/affiliate", "Affiliate"],
];

/** The account's sub-pages; the current one is marked for screen readers too. */
export function AccountNav({ current }: { current: string }) {
  return (
    <nav aria-label="Account" class="account-nav" data-testid="account-nav">
      <ul>
        {PAGES.map(([to, label]) => (
          <li key={to}>
            <a href={`#${to}`} aria-current={to === current ? "page" : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** An account page: its title and nav, and its content only for a signed-in shopper. */
export function AccountPage({ path, title, children }: { path: string; title: string; children: ComponentChildren }) {
  const { session } = useApp();
  return (
    <section class="account" data-testid="account-page">
      <h1>{title}</h1>
      {session ? (
        <>
          <AccountNav current={path} />
          {children}
        </>
      ) : (
        <p data-testid="signin-needed">
          Please <Link to={signInPath(path)}>sign in</Link> or <Link to="/signup">create an account</Link> to see this page.
        </p>
      )}
    </section>
  );
}

/** A date-time from the API as the shopper's local date and time. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** An idempotency key for one intended action (`^[A-Za-z0-9_.:-]{8,128}$`), kept across its retries. */
export function idempotencyKey(prefix: string): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}:${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
