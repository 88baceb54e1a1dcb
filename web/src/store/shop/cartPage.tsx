/**
 * Cart `#/cart`: the lines kept in the browser, priced by `POST /quotes` for a country (the signed-in
 * shopper's default address country, or one picked here), with the shipping method, a coupon and the
 * quote's feedback on both, sold-out lines flagged, and tax and totals exactly as the quote says.
 */
import { ErrorNote, Link, Loading, navigate } from "../../shared/ui";
import { signInPath, useApp } from "../app";
import { useCart } from "./cart";
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

export function CartPage() {
  const { session } = useApp();
  const cart = useCart();
  const [choices, setChoices] = useChoices();
  const countries = useCountries();
  const addresses = useAddresses();
  useDefaultCountry(choices, setChoices, countries, addresses);

  const request =
    cart.length && choices.country
      ? {
          items: cart.map((l) => ({ sku: l.sku, quantity: l.quantity })),
          country: choices.country,
          shippingMethodId: choices.shippingMethodId || undefined,
          couponCode: choices.couponCode || undefined,
          affiliateCode: storedAffiliateCode(),
        }
      : null;
  const quote = useQuote(request);

  if (cart.length === 0) {
    return (
      <section>
        <h1>Your cart</h1>
        <p data-testid="cart-empty">
          Your cart is empty. <Link to="/">Browse the shop</Link>
        </p>
      </section>
    );
  }

  const problems = quote.data ? blocking(quote.data) : [];
  const checkout = (): void => navigate(session ? "/checkout" : signInPath("/checkout"));
  return (
    <section aria-labelledby="cart-heading">
      <h1 id="cart-heading">Your cart</h1>
      <label for="cart-country">Deliver to</label>
      <select
        id="cart-country"
        value={choices.country}
        onChange={(e) => setChoices({ country: e.currentTarget.value, shippingMethodId: "" })}
        data-testid="country"
      >
        {choices.country && !countries.includes(choices.country) ? <option value={choices.country}>{choices.country}</option> : null}
        {countries.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <ErrorNote error={quote.error} />
      {quote.data ? (
        <div aria-busy={quote.loading}>
          <QuoteSummary quote={quote.data} cart={cart} editable />
          <ShippingChoice quote={quote.data} value={choices.shippingMethodId} onChange={(id) => setChoices({ shippingMethodId: id })} />
          <CouponField value={choices.couponCode} quote={quote.data} onApply={(code) => setChoices({ couponCode: code })} />
        </div>
      ) : (
        <Loading label="Pricing your cart…" />
      )}
      <p>
        <button type="button" onClick={checkout} disabled={!quote.data || problems.length > 0} data-testid="checkout">
          {session ? "Check out" : "Sign in to check out"}
        </button>
      </p>
      {problems.length > 0 ? <p class="muted">Fix what is marked above to check out.</p> : null}
    </section>
  );
}
