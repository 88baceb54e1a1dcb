/**
 * What every storefront page shares: the run-time config, the API client and the session, handed down
 * by the shell (`main.tsx`) through one context, so a page module needs nothing but `useApp()`.
 *
 * Pages are registered in the shell's route table (`routes` in `main.tsx`) under a path prefix;
 * a page gets the route's remaining segments as `params` (`#/orders/o_1` → `OrderPage` with `["o_1"]`).
 */
import type { ComponentType } from "preact";
import { createContext } from "preact";
import { useContext } from "preact/hooks";

import type { Api } from "../shared/api";
import type { Session } from "../shared/auth";
import type { Config } from "../shared/config";

export interface App {
  config: Config;
  api: Api;
  /** The signed-in shopper, or null (re-rendered on sign-in, sign-out and expiry). */
  session: Session | null;
}

export const AppContext = createContext<App | null>(null);

export function useApp(): App {
  const app = useContext(AppContext);
  if (!app) throw new Error("useApp() outside the storefront shell");
  return app;
}

export interface PageProps {
  /** The route's segments after the registered prefix: `#/products/p_1` → `["p_1"]`. */
  params: string[];
}

export type Page = ComponentType<PageProps>;

/**
 * localStorage keys the storefront's modules share. The affiliate code of a `?ref=` landing, the UTM
 * labels and the visitor id are written by the visit beacon (account/) and read at checkout (shop/).
 */
export const STORAGE = {
  cart: "storekeeper.cart",
  ref: "storekeeper.ref",
  utm: "storekeeper.utm",
  visitor: "storekeeper.visitor",
  /** The cart's country, shipping method and coupon, carried from the cart page to checkout. */
  choices: "storekeeper.choices",
} as const;

/** A page that needs a signed-in shopper sends others here, coming back afterwards. */
export function signInPath(back: string): string {
  return `/signin?next=${encodeURIComponent(back)}`;
}
