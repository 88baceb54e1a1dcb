/**
 * The storefront's shell: loads `config.json`, builds the API client, and renders the header (search,
 * cart count, sign-in or the shopper's menu) above the page the hash route names.
 *
 * The route table is a plain map from a path prefix to a page, so a page module is added with one line;
 * the longest registered prefix wins (`me/orders` before `me`), and the page gets the segments after it.
 */
import "../shared/style.css";
import "./store.css";

import { render } from "preact";
import { useMemo, useState } from "preact/hooks";

import { makeApi } from "../shared/api";
import { currentSession, signOut, useSession } from "../shared/auth";
import { type Config, loadConfig } from "../shared/config";
import { ErrorNote, hashQuery, Link, Loading, navigate, useHashRoute, useLoad } from "../shared/ui";
import { type App, AppContext, type Page } from "./app";
import { CartPage } from "./shop/cartPage";
import { useCart } from "./shop/cart";
import { CatalogPage } from "./shop/catalog";
import { CheckoutPage } from "./shop/checkout";
import { OrderPage } from "./shop/order";
import { ProductPage } from "./shop/product";
import { useVisitBeacon } from "./account/beacon";
import { ACCOUNT_ROUTES } from "./account/routes";

const routes: Record<string, Page> = {
  "": CatalogPage,
  products: ProductPage,
  cart: CartPage,
  checkout: CheckoutPage,
  orders: OrderPage,
  ...ACCOUNT_ROUTES,
};

function match(route: string[]): { page: Page; params: string[] } | null {
  for (let n = route.length; n >= 0; n--) {
    const page = routes[route.slice(0, n).join("/")];
    if (page) return n === 0 && route.length > 0 ? null : { page, params: route.slice(n) };
  }
  return null;
}

function Header({ app }: { app: App }) {
  const cart = useCart();
  const count = cart.reduce((sum, l) => sum + l.quantity, 0);
  const [q, setQ] = useState(() => hashQuery().get("q") ?? "");
  const search = (e: Event): void => {
    e.preventDefault();
    const words = q.trim();
    navigate(words ? `/?q=${encodeURIComponent(words)}` : "/");
  };
  return (
    <header class="top">
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault(); // "#main" would be read as a route: move the focus instead
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <Link to="/" class="brand" data-testid="home-link">
        Storekeeper
      </Link>
      <form role="search" class="search" onSubmit={search}>
        <label for="search-q" class="visually-hidden">
          Search products
        </label>
        <input
          id="search-q"
          type="search"
          placeholder="Search products"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          data-testid="search-input"
        />
        <button type="submit" data-testid="search-submit">
          Search
        </button>
      </form>
      <span class="spacer" />
      <nav aria-label="Your shop">
        <Link to="/cart" data-testid="cart-link">
          Cart (<span data-testid="cart-count">{count}</span>)
        </Link>
        {app.session ? (
          <>
            <Link to="/me" data-testid="account-link">
              {app.session.email}
            </Link>
            <button
              type="button"
              class="secondary"
              data-testid="signout"
              onClick={() => {
                signOut();
                navigate("/");
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <Link to="/signin" data-testid="signin-link">
            Sign in
          </Link>
        )}
      </nav>
    </header>
  );
}

function Shell({ config }: { config: Config }) {
  const session = useSession();
  useVisitBeacon(config);
  const api = useMemo(() => makeApi(config, () => currentSession()?.idToken ?? null), [config]);
  const app = useMemo<App>(() => ({ config, api, session }), [config, api, session]);
  const route = useHashRoute();
  const found = match(route);
  return (
    <AppContext.Provider value={app}>
      <Header app={app} />
      <main id="main" tabIndex={-1} data-testid={`page-${route[0] ?? "home"}`}>
        {found ? (
          <found.page key={route.join("/")} params={found.params} />
        ) : (
          <section>
            <h1>Not found</h1>
            <p>
              There is no page at this address. <Link to="/">Back to the shop</Link>
            </p>
          </section>
        )}
      </main>
    </AppContext.Provider>
  );
}

function Root() {
  const config = useLoad(loadConfig, []);
  if (config.error) {
    return (
      <main>
        <h1>The shop could not start</h1>
        <ErrorNote error={config.error} />
        <button type="button" onClick={config.reload}>
          Try again
        </button>
      </main>
    );
  }
  if (!config.data) return <Loading label="Opening the shop…" />;
  return <Shell config={config.data} />;
}

const root = document.getElementById("app");
if (root) render(<Root />, root);
