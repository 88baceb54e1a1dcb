/**
 * The account half of the storefront's routes, for the shell's route table:
 * `#/signin`, `#/signup`, and `#/me` with its sub-pages (`#/me/orders`, `#/me/addresses`,
 * `#/me/offers`, `#/me/affiliate`) dispatched here so the shell needs one entry per prefix.
 */
import "./account.css";

import { Link } from "../../shared/ui";
import type { Page, PageProps } from "../app";
import { AddressesPage } from "./addresses";
import { AffiliatePage } from "./affiliate";
import { OffersPage } from "./offers";
import { MyOrdersPage } from "./orders";
import { ProfilePage } from "./profile";
import { SignInPage, SignUpPage } from "./signin";

const ME: Record<string, Page> = {
  "": ProfilePage,
  orders: MyOrdersPage,
  addresses: AddressesPage,
  offers: OffersPage,
  affiliate: AffiliatePage,
};

export function MePage({ params }: PageProps) {
  const Sub = ME[params[0] ?? ""];
  if (!Sub) {
    return (
      <section data-testid="not-found">
        <h1>Not found</h1>
        <p>
          No such account page. <Link to="/me">Back to your account</Link>
        </p>
      </section>
    );
  }
  return <Sub params={params.slice(1)} />;
}

/** Registered by the storefront shell (`main.tsx`): route prefix → page. */
export const ACCOUNT_ROUTES: Record<string, Page> = {
  signin: SignInPage,
  signup: SignUpPage,
  me: MePage,
};
