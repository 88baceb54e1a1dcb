/**
 * The admin console's shell: staff sign-in, a nav that shows each role only the pages it may use,
 * and a route table mapping the first hash segment (`#/orders/o_1` → `orders`) to a page.
 *
 * Which role may use a page mirrors the API's own authorization (template.yaml, checked route by route
 * in tests/e2e/test_authorization_matrix.py): support reads stock and orders, refunds and cancels,
 * and works with customers; everything else is admin-only. Hiding a page is a courtesy, not the
 * guard: the API answers 403 to a role that calls what it may not.
 */
import type { ComponentType } from "preact";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { makeApi } from "../shared/api";
import { currentSession, signIn, signOut, useSession } from "../shared/auth";
import { loadConfig, type Config } from "../shared/config";
import { ErrorNote, Loading, useHashRoute } from "../shared/ui";
import "../shared/style.css";
import { type PageProps, type Role, roleOf } from "./core/page";
import { OrdersPage } from "./core/orders";
import { ProductsPage } from "./core/products";
import { StockPage } from "./core/stock";
import { AffiliatesPage } from "./more/affiliates";
import { CouponsPage } from "./more/coupons";
import { CustomersPage } from "./more/customers";
import { PricingPage } from "./more/pricing";
import { ReportsPage } from "./more/reports";

interface Route {
  title: string;
  roles: Role[];
  page: ComponentType<PageProps>;
}

const ADMIN: Role[] = ["admin"];
const STAFF: Role[] = ["admin", "support"];

/** Nav order is this table's order; add a page with one line. */
const ROUTES: Record<string, Route> = {
  orders: { title: "Orders", roles: STAFF, page: OrdersPage },
  products: { title: "Products", roles: ADMIN, page: ProductsPage },
  stock: { title: "Stock", roles: STAFF, page: StockPage },
  customers: { title: "Customers", roles: STAFF, page: CustomersPage },
  coupons: { title: "Coupons", roles: ADMIN, page: CouponsPage },
  affiliates: { title: "Affiliates", roles: ADMIN, page: AffiliatesPage },
  pricing: { title: "Shipping & tax", roles: ADMIN, page: PricingPage },
  reports: { title: "Reports", roles: ADMIN, page: ReportsPage },
};

const HOME = "orders";

function SignIn({ config }: { config: Config }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(config, email, password);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <h1>Storekeeper console</h1>
      <form class="stack" onSubmit={submit} data-testid="signin-form">
        <label>
          Email
          <input
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            data-testid="signin-email"
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="signin-password"
          />
        </label>
        <button type="submit" disabled={busy} data-testid="signin-submit">
          Sign in
        </button>
        {error !== null && <ErrorNote error={error} />}
      </form>
    </main>
  );
}

function Console({ config }: { config: Config }) {
  const session = useSession();
  const segments = useHashRoute();
  const api = useMemo(() => makeApi(config, () => currentSession()?.idToken ?? null), [config]);

  if (session === null) return <SignIn config={config} />;
  const role = roleOf(session);
  if (role === null) {
    return (
      <main data-testid="not-staff">
        <h1>Staff only</h1>
        <p>{session.email} is not in the admin or support group. Sign in with a staff account.</p>
        <button type="button" onClick={() => signOut()} data-testid="signout">
          Sign out
        </button>
      </main>
    );
  }

  const name = segments[0] || HOME;
  const route = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined;
  const allowed = route !== undefined && route.roles.includes(role);
  const Page = route?.page;

  return (
    <div class="console" data-testid="console" data-role={role}>
      <header class="top">
        <strong>Storekeeper console</strong>
        <nav aria-label="Console" data-testid="admin-nav">
          {Object.entries(ROUTES)
            .filter(([, r]) => r.roles.includes(role))
            .map(([key, r]) => (
              <a
                key={key}
                href={`#/${key}`}
                aria-current={key === name ? "page" : undefined}
                data-testid={`nav-${key}`}
              >
                {r.title}
              </a>
            ))}
        </nav>
        <span class="spacer" />
        <span class="muted" data-testid="who">
          {session.email} ({role})
        </span>
        <button type="button" class="secondary" onClick={() => signOut()} data-testid="signout">
          Sign out
        </button>
      </header>
      <main>
        {allowed && Page ? (
          <Page api={api} session={session} role={role} params={segments.slice(1)} />
        ) : (
          <p data-testid="no-page">
            {route === undefined ? "No such page." : "Your role cannot use this page."}{" "}
            <a href={`#/${HOME}`}>Go to orders</a>
          </p>
        )}
      </main>
    </div>
  );
}

function Boot() {
  const [config, setConfig] = useState<Config | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loadConfig().then(setConfig, setError);
  }, []);
  if (error !== null) return <ErrorNote error={error} />;
  if (config === null) return <Loading />;
  return <Console config={config} />;
}

render(<Boot />, document.getElementById("app") ?? document.body);
