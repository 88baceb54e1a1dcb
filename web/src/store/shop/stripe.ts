/**
 * Stripe.js, loaded at run time from `config.stripeJsUrl` (localstripe's stand-in locally, Stripe's own
 * `https://js.stripe.com/v3/` on AWS — Stripe requires it be loaded from there, never bundled), once
 * per page. Only the few calls checkout makes are typed: a card Element and `confirmCardPayment`.
 * Card numbers go from the Element to Stripe directly; this app never sees them.
 */
export interface StripeCardElement {
  mount(target: string | HTMLElement): void;
  destroy(): void;
  on(event: "change", handler: (e?: { error?: { message: string } }) => void): void;
}

export interface StripeError {
  message?: string;
  code?: string;
}

export interface Stripe {
  elements(): { create(type: "card", options?: object): StripeCardElement };
  confirmCardPayment(
    clientSecret: string,
    data: { payment_method: { card: StripeCardElement; billing_details?: { name?: string } } },
  ): Promise<{ error?: StripeError | null; paymentIntent?: { id: string; status: string } }>;
}

declare global {
  interface Window {
    Stripe?: (publishableKey: string) => Stripe;
  }
}

const LOAD_TIMEOUT_MS = 15_000;
let loading: Promise<(key: string) => Stripe> | null = null;

function load(url: string): Promise<(key: string) => Stripe> {
  return new Promise((resolve, reject) => {
    if (window.Stripe) {
      resolve(window.Stripe);
      return;
    }
    const script = document.createElement("script");
    script.src = url;
    script.async = true;
    const timer = setTimeout(() => fail(new Error("The payment form did not load in time. Please try again.")), LOAD_TIMEOUT_MS);
    function fail(error: Error): void {
      clearTimeout(timer);
      script.remove();
      reject(error);
    }
    script.onload = () => {
      clearTimeout(timer);
      if (window.Stripe) resolve(window.Stripe);
      else fail(new Error("The payment form loaded without Stripe."));
    };
    script.onerror = () => fail(new Error("The payment form could not be loaded."));
    document.head.appendChild(script);
  });
}

const instances = new Map<string, Stripe>();

/** The Stripe object for the key, loading Stripe.js first if needed (a failed load may be retried). */
export async function loadStripe(url: string, publishableKey: string): Promise<Stripe> {
  loading ??= load(url).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  const factory = await loading;
  let stripe = instances.get(publishableKey);
  if (!stripe) {
    stripe = factory(publishableKey);
    instances.set(publishableKey, stripe);
  }
  return stripe;
}
