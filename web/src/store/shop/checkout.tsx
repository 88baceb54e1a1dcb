/**
 * Checkout `#/checkout` (signed in): address (saved ones offered), shipping method and coupon, priced
 * by the same quote as the cart; then `POST /orders` with an Idempotency-Key made once per attempt (a
 * retry after a lost answer gets the same order, never a second one), a wait until the order is
 * AWAITING_PAYMENT, and the card paid with Stripe.js against the order's client secret. The affiliate
 * code of a `?ref=` landing, the UTM labels and the visitor id (kept by the visit beacon) go with it.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { ApiError, call, errorMessage } from "../../shared/api";
import type { Schema } from "../../shared/api";
import { ErrorNote, Link, Loading, money, navigate } from "../../shared/ui";
import { type App, signInPath, STORAGE, useApp } from "../app";
import { clearCart, useCart } from "./cart";
import {
  blocking,
  CouponField,
  QuoteSummary,
  ShippingChoice,
  storedAffiliateCode,
  useAddresses,
  useChoices,
  useCountries,
  useDefaultCountry,
  useQuote,
} from "./quote";
import { loadStripe, type StripeCardElement } from "./stripe";

type CheckoutIn = Schema["/orders"]["post"]["requestBody"]["content"]["application/json"];
type Address = NonNullable<CheckoutIn["shippingAddress"]>;
type Order = Schema["/orders/{orderId}"]["get"]["responses"][200]["content"]["application/json"];

const EMPTY_ADDRESS: Address = { name: "", line1: "", line2: "", city: "", postalCode: "", country: "" };
/** How long to wait for stock to be held and the PaymentIntent made (the API asks to poll every 1 s). */
const PREPARE_DEADLINE_MS = 60_000;
const POLL_MS = 1_000;

function stored(key: string): string | undefined {
  const raw = localStorage.getItem(key);
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "string" ? value : raw;
  } catch {
    return raw;
  }
}

/** The UTM labels of the landing URL and the visitor id, as the visit beacon kept them. */
export function attribution(): CheckoutIn["attribution"] {
  let utm: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE.utm) ?? "{}");
    if (typeof parsed === "object" && parsed !== null) utm = parsed as Record<string, unknown>;
  } catch {
    utm = {};
  }
  const label = (name: string): string | undefined => {
    const value = utm[name] ?? utm[`utm_${name}`];
    return typeof value === "string" && value ? value.slice(0, 100) : undefined;
  };
  const result = { source: label("source"), medium: label("medium"), campaign: label("campaign"), visitorId: stored(STORAGE.visitor) };
  return Object.values(result).some(Boolean) ? result : undefined;
}

function newKey(): string {
  return `checkout-${crypto.randomUUID()}`;
}

/** Reads the order every second until it can be paid (or was refused), within a deadline. */
async function waitPayable(app: App, orderId: string, cancelled: () => boolean): Promise<Order> {
  const deadline = Date.now() + PREPARE_DEADLINE_MS;
  for (;;) {
    const order = await call(app.api.GET("/orders/{orderId}", { params: { path: { orderId } } }));
    if (order.status !== "PENDING" || cancelled()) return order;
    if (Date.now() > deadline) throw new Error("Your order is taking longer than usual to prepare. Follow it on its page.");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function AddressFields({ value, onChange, countries }: { value: Address; onChange: (a: Address) => void; countries: string[] }) {
  const field = (name: keyof Address, text: string, required = true, autocomplete = "") => (
    <label>
      {text}
      <input
        name={name}
        required={required}
        autocomplete={autocomplete || undefined}
        value={value[name] ?? ""}
        onInput={(e) => onChange({ ...value, [name]: e.currentTarget.value })}
        data-testid={`address-${name}`}
      />
    </label>
  );
  return (
    <div class="stack" data-testid="address-form">
      {field("name", "Full name", true, "name")}
      {field("line1", "Address", true, "address-line1")}
      {field("line2", "Address line 2 (optional)", false, "address-line2")}
      {field("city", "City", true, "address-level2")}
      {field("postalCode", "Postal code", true, "postal-code")}
      <label>
        Country
        <select
          required
          autocomplete="country"
          value={value.country}
          onChange={(e) => onChange({ ...value, country: e.currentTarget.value })}
          data-testid="address-country"
        >
          <option value="">Choose…</option>
          {countries.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function Payment({ order, onPaid }: { order: Order; onPaid: () => void }) {
  const { config } = useApp();
  const mount = useRef<HTMLDivElement>(null);
  const card = useRef<StripeCardElement | null>(null);
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [paying, setPaying] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    loadStripe(config.stripeJsUrl, config.stripePublishableKey).then(
      (stripe) => {
        if (!live || !mount.current) return;
        const element = stripe.elements().create("card");
        element.mount(mount.current);
        card.current = element;
        setReady(true);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
      card.current?.destroy();
      card.current = null;
    };
  }, [config.stripeJsUrl, config.stripePublishableKey]);

  const pay = async (e: Event): Promise<void> => {
    e.preventDefault();
    const secret = order.payment?.clientSecret;
    if (!secret || !card.current) return;
    setPaying(true);
    setFailed(null);
    try {
      const stripe = await loadStripe(config.stripeJsUrl, config.stripePublishableKey);
      const result = await stripe.confirmCardPayment(secret, {
        payment_method: { card: card.current, billing_details: { name: order.shippingAddress.name } },
      });
      if (result.error) {
        setFailed(result.error.message ?? "The card was declined.");
      } else {
        onPaid();
      }
    } catch (err) {
      setFailed(errorMessage(err));
    } finally {
      setPaying(false);
    }
  };

  return (
    <form onSubmit={(e) => void pay(e)} aria-labelledby="pay-heading" data-testid="payment">
      <h2 id="pay-heading">Pay {money(order.total)}</h2>
      <p class="muted">
        Order <Link to={`/orders/${encodeURIComponent(order.orderId)}`}>{order.orderId}</Link> holds your items while you pay.
      </p>
      <ErrorNote error={error} />
      <div class="card-element" ref={mount} data-testid="card-element" aria-label="Card details" role="group" />
      {!ready && !error ? <Loading label="Loading the payment form…" /> : null}
      {failed ? (
        <div role="alert" class="error" data-testid="payment-error">
          <p>Payment failed: {failed}</p>
          <p>
            <Link to={`/orders/${encodeURIComponent(order.orderId)}`} data-testid="failed-order-link">
              See the order
            </Link>{" "}
            — your cart is kept so you can try again.
          </p>
        </div>
      ) : null}
      <button type="submit" disabled={!ready || paying || failed !== null} data-testid="pay">
        {paying ? "Paying…" : `Pay ${money(order.total)}`}
      </button>
    </form>
  );
}

export function CheckoutPage() {
  const app = useApp();
  const { api, session } = app;
  const cart = useCart();
  const [choices, setChoices] = useChoices();
  const countries = useCountries();
  const addresses = useAddresses();
  useDefaultCountry(choices, setChoices, countries, addresses);
  /** The saved address picked, "" for a new one, null until the shopper picks (then the default). */
  const [picked, setAddressId] = useState<string | null>(null);
  const [address, setAddress] = useState<Address>(EMPTY_ADDRESS);
  const [attempt, setAttempt] = useState<{ key: string; body: string } | null>(null);
  const [placing, setPlacing] = useState(false);
  const [placeError, setPlaceError] = useState<unknown>(null);
  const [order, setOrder] = useState<Order | null>(null);
  const leaving = useRef(false);

  useEffect(() => {
    if (!session) navigate(signInPath("/checkout"));
  }, [session]);
  useEffect(
    () => () => {
      leaving.current = true;
    },
    [],
  );
  // Saved addresses arrive after the first render: until the shopper picks, the default one is used.
  const addressId = picked ?? addresses[0]?.addressId ?? "";
  const saved = addresses.find((a) => a.addressId === addressId);
  const shippingAddress: Address | null = saved
    ? { name: saved.name, line1: saved.line1, line2: saved.line2 ?? undefined, city: saved.city, postalCode: saved.postalCode, country: saved.country }
    : address.name && address.line1 && address.city && address.postalCode && address.country
      ? { ...address, line2: address.line2 || undefined }
      : null;
  const country = shippingAddress?.country ?? choices.country;
  const items = cart.map((l) => ({ sku: l.sku, quantity: l.quantity }));
  const affiliateCode = storedAffiliateCode();
  const quote = useQuote(
    items.length && country
      ? {
          items,
          ...(shippingAddress ? { shippingAddress } : { country }),
          shippingMethodId: choices.shippingMethodId || undefined,
          couponCode: choices.couponCode || undefined,
          affiliateCode,
        }
      : null,
  );

  if (!session) return <Loading label="Taking you to sign in…" />;
  if (order) {
    return (
      <section aria-labelledby="checkout-heading">
        <h1 id="checkout-heading">Checkout</h1>
        <Payment
          order={order}
          onPaid={() => {
            clearCart();
            navigate(`/orders/${encodeURIComponent(order.orderId)}`);
          }}
        />
      </section>
    );
  }
  if (cart.length === 0) {
    return (
      <section>
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link to="/">Browse the shop</Link>
        </p>
      </section>
    );
  }

  const problems = quote.data ? blocking(quote.data) : [];
  const place = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!shippingAddress || !quote.data) return;
    const body: CheckoutIn = {
      items,
      shippingAddress,
      shippingMethodId: choices.shippingMethodId || (quote.data.shippingMethods.length === 1 ? quote.data.shippingMethods[0]?.shippingMethodId : undefined),
      couponCode: choices.couponCode || undefined,
      affiliateCode,
      attribution: attribution(),
    };
    // One key per attempt: the same body again (a retry after a timeout) reuses it, a changed one gets a new one.
    const text = JSON.stringify(body);
    const key = attempt && attempt.body === text ? attempt.key : newKey();
    setAttempt({ key, body: text });
    setPlacing(true);
    setPlaceError(null);
    try {
      const created = await call(api.POST("/orders", { params: { header: { "Idempotency-Key": key } }, body }));
      const ready = await waitPayable(app, created.orderId, () => leaving.current);
      if (ready.status === "AWAITING_PAYMENT" && ready.payment?.clientSecret) {
        setOrder(ready);
      } else {
        if (ready.status === "PAID") clearCart(); // a coupon covered it all: nothing to charge
        navigate(`/orders/${encodeURIComponent(ready.orderId)}`);
      }
    } catch (err) {
      setPlaceError(err);
      if (err instanceof ApiError && err.code === "idempotency_key_reused") setAttempt(null);
    } finally {
      setPlacing(false);
    }
  };

  return (
    <section aria-labelledby="checkout-heading">
      <h1 id="checkout-heading">Checkout</h1>
      <form onSubmit={(e) => void place(e)} aria-label="Place your order">
        <fieldset data-testid="addresses">
          <legend>Deliver to</legend>
          {addresses.map((a) => (
            <label key={a.addressId} data-testid="saved-address" data-address-id={a.addressId}>
              <input type="radio" name="address" value={a.addressId} checked={addressId === a.addressId} onChange={() => setAddressId(a.addressId)} />{" "}
              {a.name}, {a.line1}, {a.postalCode} {a.city}, {a.country}
              {a.default ? <small> (default)</small> : null}
            </label>
          ))}
          <label>
            <input type="radio" name="address" value="" checked={addressId === ""} onChange={() => setAddressId("")} data-testid="new-address" /> A new
            address
          </label>
          {addressId === "" ? <AddressFields value={address} onChange={setAddress} countries={countries} /> : null}
        </fieldset>
        <ErrorNote error={quote.error} />
        {quote.data ? (
          <div aria-busy={quote.loading}>
            <QuoteSummary quote={quote.data} cart={cart} editable={false} />
            <ShippingChoice quote={quote.data} value={choices.shippingMethodId} onChange={(id) => setChoices({ shippingMethodId: id })} />
            <CouponField value={choices.couponCode} quote={quote.data} onApply={(code) => setChoices({ couponCode: code })} />
            {affiliateCode ? (
              <p class="muted" data-testid="affiliate-code">
                Referred by {affiliateCode}
              </p>
            ) : null}
          </div>
        ) : (
          <Loading label="Pricing your order…" />
        )}
        <ErrorNote error={placeError} />
        <button type="submit" disabled={placing || !shippingAddress || !quote.data || problems.length > 0} data-testid="place-order">
          {placing ? "Placing your order…" : quote.data ? `Place order — ${money(quote.data.total)}` : "Place order"}
        </button>
        {!shippingAddress ? <p class="muted">Fill in the address to place the order.</p> : null}
      </form>
    </section>
  );
}
