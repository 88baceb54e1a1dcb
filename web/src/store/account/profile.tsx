/**
 * `#/me`: the shopper's profile (GET/PUT /me), what the shop suggests for them, their saved cards,
 * and the two GDPR rights the API serves: a copy of their data (GET /me/export, saved as a JSON
 * file) and erasure (DELETE /me, after they type a confirmation, then signed out).
 */
import { useState } from "preact/hooks";

import { call } from "../../shared/api";
import { signOut } from "../../shared/auth";
import type { components } from "../../shared/schema";
import { ErrorNote, Link, Loading, money, navigate, useLoad } from "../../shared/ui";
import { useApp } from "../app";
import { SignOutButton } from "./signin";
import { AccountPage, when } from "./shell";

type ProfileOut = components["schemas"]["ProfileOut"];

export function ProfilePage() {
  return (
    <AccountPage path="/me" title="Your account">
      <ProfileSection />
      <RecommendationsSection />
      <CardsSection />
      <PrivacySection />
    </AccountPage>
  );
}

function ProfileSection() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/me")), [session?.sub]);
  return (
    <section aria-labelledby="profile-heading" data-testid="profile">
      <h2 id="profile-heading">Profile</h2>
      <p>
        Signed in as <strong data-testid="profile-email">{session?.email}</strong>. <SignOutButton />
      </p>
      {loaded.loading && !loaded.data ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {loaded.data ? <ProfileForm profile={loaded.data} /> : null}
    </section>
  );
}

function ProfileForm({ profile }: { profile: ProfileOut }) {
  const { api } = useApp();
  const [name, setName] = useState(profile.name ?? "");
  const [phone, setPhone] = useState(profile.phone ?? "");
  const [consent, setConsent] = useState(profile.marketingConsent);
  const [saved, setSaved] = useState<ProfileOut>(profile);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const body = { name: name.trim(), phone: phone.trim() || null, marketingConsent: consent };
      setSaved(await call(api.PUT("/me", { body })));
      setDone(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const summary = saved.summary;
  return (
    <>
      <dl class="facts" data-testid="profile-summary">
        <dt>Orders</dt>
        <dd data-testid="summary-orders">{summary.orderCount}</dd>
        <dt>Spent with us</dt>
        <dd>{money(summary.lifetimeValue)}</dd>
        <dt>Last order</dt>
        <dd>{when(summary.lastOrderAt)}</dd>
        {summary.favouriteCategories.length > 0 ? (
          <>
            <dt>Favourite categories</dt>
            <dd>{summary.favouriteCategories.join(", ")}</dd>
          </>
        ) : null}
      </dl>
      <form onSubmit={submit} data-testid="profile-form">
        <label>
          Name
          <input
            type="text"
            autocomplete="name"
            required
            maxLength={200}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            data-testid="profile-name"
          />
        </label>
        <label>
          Phone (optional)
          <input
            type="tel"
            autocomplete="tel"
            pattern="\+?[0-9 \(\)\.\/\-]{4,32}"
            value={phone}
            onInput={(e) => setPhone(e.currentTarget.value)}
            data-testid="profile-phone"
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={consent}
            onChange={(e) => setConsent(e.currentTarget.checked)}
            data-testid="profile-consent"
          />
          Send me offers by email
        </label>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy} data-testid="profile-save">
          {busy ? "Saving…" : "Save"}
        </button>
        {done ? (
          <span role="status" data-testid="profile-saved">
            {" "}
            Saved.
          </span>
        ) : null}
      </form>
    </>
  );
}

function RecommendationsSection() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/me/recommendations", { params: { query: { limit: 6 } } })), [session?.sub]);
  const items = loaded.data?.items ?? [];
  return (
    <section aria-labelledby="recommendations-heading" data-testid="recommendations">
      <h2 id="recommendations-heading">Picked for you</h2>
      {loaded.loading && !loaded.data ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {loaded.data && items.length === 0 ? <p>Nothing yet: suggestions follow your first order.</p> : null}
      <ul class="cards">
        {items.map((item) => (
          <li key={item.productId} data-testid="recommendation">
            <Link to={`/products/${encodeURIComponent(item.productId)}`}>{item.name}</Link>
            <small>{item.reason === "bought_together" ? " Often bought with what you bought" : " A best seller"}</small>
          </li>
        ))}
      </ul>
    </section>
  );
}

function CardsSection() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/me/payment-methods")), [session?.sub]);
  const items = loaded.data?.items ?? [];
  return (
    <section aria-labelledby="cards-heading" data-testid="saved-cards">
      <h2 id="cards-heading">Saved cards</h2>
      {loaded.loading && !loaded.data ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {loaded.data && items.length === 0 ? <p>No saved cards.</p> : null}
      <ul>
        {items.map((card) => (
          <li key={`${card.brand}-${card.last4}-${card.expMonth}-${card.expYear}`} data-testid="saved-card">
            {card.brand} ending {card.last4}, expires {String(card.expMonth).padStart(2, "0")}/{card.expYear}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Hands a JSON document to the browser as a file download (no server round trip for the file). */
function download(name: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the browser a moment to start the download before the URL is revoked.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const ERASE_WORD = "DELETE";

function PrivacySection() {
  const { api } = useApp();
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const [confirmation, setConfirmation] = useState("");
  const [eraseError, setEraseError] = useState<unknown>(null);
  const [erasing, setErasing] = useState(false);

  async function exportData(): Promise<void> {
    setExporting(true);
    setExportError(null);
    try {
      const data = await call(api.GET("/me/export"));
      download(`storekeeper-export-${data.exportedAt.slice(0, 10)}.json`, data);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  }

  async function erase(event: Event): Promise<void> {
    event.preventDefault();
    if (confirmation !== ERASE_WORD) return;
    setErasing(true);
    setEraseError(null);
    try {
      await call(api.DELETE("/me"));
      signOut();
      navigate("/");
    } catch (e) {
      // 409 orders_still_open: the API's message says to wait for open orders.
      setEraseError(e);
    } finally {
      setErasing(false);
    }
  }

  return (
    <section aria-labelledby="privacy-heading" data-testid="privacy">
      <h2 id="privacy-heading">Your data</h2>
      <p>Download everything the shop keeps about you as a JSON file.</p>
      <button type="button" onClick={exportData} disabled={exporting} data-testid="export-data">
        {exporting ? "Preparing…" : "Download my data"}
      </button>
      <ErrorNote error={exportError} />
      <form onSubmit={erase} data-testid="delete-account-form">
        <h3>Delete my account</h3>
        <p>
          This erases your profile, addresses and history and cannot be undone. Orders that are still open must finish
          first.
        </p>
        <label>
          Type {ERASE_WORD} to confirm
          <input
            type="text"
            autocomplete="off"
            value={confirmation}
            onInput={(e) => setConfirmation(e.currentTarget.value)}
            data-testid="delete-confirm"
          />
        </label>
        <ErrorNote error={eraseError} />
        <button type="submit" class="danger" disabled={erasing || confirmation !== ERASE_WORD} data-testid="delete-account">
          {erasing ? "Deleting…" : "Delete my account"}
        </button>
      </form>
    </section>
  );
}
