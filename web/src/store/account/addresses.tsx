/**
 * `#/me/addresses`: the shopper's saved shipping addresses (the checkout offers them), adding one,
 * deleting one. The default is chosen when an address is added (the API's `default` flag; the first
 * address is the default anyway) — the API has no call to re-mark an existing one, so the page
 * offers "add as default" rather than a switch it could not honour.
 */
import { useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { components } from "../../shared/schema";
import { ErrorNote, Loading, useLoad } from "../../shared/ui";
import { useApp } from "../app";
import { AccountPage } from "./shell";

type AddressOut = components["schemas"]["AddressOut"];
type AddressIn = components["schemas"]["AddressIn"];

export function AddressesPage() {
  return (
    <AccountPage path="/me/addresses" title="Addresses">
      <AddressBook />
    </AccountPage>
  );
}

function AddressBook() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/me/addresses")), [session?.sub]);
  const items = loaded.data?.items ?? [];
  return (
    <>
      {loaded.loading && !loaded.data ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {loaded.data && items.length === 0 ? <p data-testid="no-addresses">No saved addresses yet.</p> : null}
      <ul class="addresses" data-testid="addresses">
        {items.map((address) => (
          <AddressItem key={address.addressId} address={address} onDeleted={loaded.reload} />
        ))}
      </ul>
      <AddressForm first={loaded.data !== undefined && items.length === 0} onAdded={loaded.reload} />
    </>
  );
}

/** One address as a few lines, the way it would be written on a parcel. */
export function AddressLines({ address }: { address: AddressOut }) {
  return (
    <address>
      {address.name}
      <br />
      {address.line1}
      {address.line2 ? (
        <>
          <br />
          {address.line2}
        </>
      ) : null}
      <br />
      {address.postalCode} {address.city}
      <br />
      {address.country}
    </address>
  );
}

function AddressItem({ address, onDeleted }: { address: AddressOut; onDeleted: () => void }) {
  const { api } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function remove(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      await call(api.DELETE("/me/addresses/{addressId}", { params: { path: { addressId: address.addressId } } }));
      onDeleted();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <li data-testid="address" data-address-id={address.addressId}>
      <AddressLines address={address} />
      {address.default ? (
        <strong class="badge" data-testid="address-default">
          Default
        </strong>
      ) : null}
      <button
        type="button"
        disabled={busy}
        onClick={() => void remove()}
        aria-label={`Delete the address ${address.name}, ${address.line1}`}
        data-testid="address-delete"
      >
        {busy ? "Deleting…" : "Delete"}
      </button>
      <ErrorNote error={error} />
    </li>
  );
}

const EMPTY: AddressIn = { name: "", line1: "", line2: "", city: "", postalCode: "", country: "", default: false };

function AddressForm({ first, onAdded }: { first: boolean; onAdded: () => void }) {
  const { api } = useApp();
  const [form, setForm] = useState<AddressIn>(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const field =
    (name: "name" | "line1" | "line2" | "city" | "postalCode" | "country") =>
    (e: Event): void => {
      const value = (e.currentTarget as HTMLInputElement).value;
      setForm((f) => ({ ...f, [name]: name === "country" ? value.toUpperCase() : value }));
    };

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: AddressIn = {
        name: form.name.trim(),
        line1: form.line1.trim(),
        line2: form.line2?.trim() || null,
        city: form.city.trim(),
        postalCode: form.postalCode.trim(),
        country: form.country.trim().toUpperCase(),
        default: form.default === true,
      };
      await call(api.POST("/me/addresses", { body }));
      setForm(EMPTY);
      onAdded();
    } catch (e) {
      // 409 too_many_addresses comes with the API's own sentence.
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} class="address-form" data-testid="address-form">
      <h2>Add an address</h2>
      <label>
        Name
        <input
          required
          maxLength={200}
          autocomplete="shipping name"
          value={form.name}
          onInput={field("name")}
          data-testid="address-name"
        />
      </label>
      <label>
        Street and number
        <input
          required
          maxLength={200}
          autocomplete="shipping address-line1"
          value={form.line1}
          onInput={field("line1")}
          data-testid="address-line1"
        />
      </label>
      <label>
        Address line 2 (optional)
        <input
          maxLength={200}
          autocomplete="shipping address-line2"
          value={form.line2 ?? ""}
          onInput={field("line2")}
          data-testid="address-line2"
        />
      </label>
      <label>
        Postal code
        <input
          required
          maxLength={20}
          autocomplete="shipping postal-code"
          value={form.postalCode}
          onInput={field("postalCode")}
          data-testid="address-postal-code"
        />
      </label>
      <label>
        City
        <input
          required
          maxLength={100}
          autocomplete="shipping address-level2"
          value={form.city}
          onInput={field("city")}
          data-testid="address-city"
        />
      </label>
      <label>
        Country code (two letters, e.g. DE)
        <input
          required
          minLength={2}
          maxLength={2}
          pattern="[A-Za-z]{2}"
          autocomplete="shipping country"
          value={form.country}
          onInput={field("country")}
          data-testid="address-country"
        />
      </label>
      {first ? null : (
        <label class="check">
          <input
            type="checkbox"
            checked={form.default === true}
            onChange={(e) => {
              const checked = e.currentTarget.checked;
              setForm((f) => ({ ...f, default: checked }));
            }}
            data-testid="address-default-choice"
          />
          Make it my default address
        </label>
      )}
      <ErrorNote error={error} />
      <button type="submit" disabled={busy} data-testid="address-submit">
        {busy ? "Saving…" : "Save address"}
      </button>
    </form>
  );
}
