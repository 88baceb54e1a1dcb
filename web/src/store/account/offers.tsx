/**
 * `#/me/offers`: the coupons issued to the shopper that they can use now (GET /me/offers), with
 * what each is worth and the conditions the checkout will check, so a refusal there is no surprise.
 */
import { call } from "../../shared/api";
import type { components } from "../../shared/schema";
import { ErrorNote, Loading, money, useLoad } from "../../shared/ui";
import { useApp } from "../app";
import { AccountPage, when } from "./shell";

type CouponOffer = components["schemas"]["CouponOffer"];

export function OffersPage() {
  return (
    <AccountPage path="/me/offers" title="Your offers">
      <OfferList />
    </AccountPage>
  );
}

function worth(offer: CouponOffer): string {
  if (offer.type === "percent") return `${offer.value}% off`;
  return `${money({ amount: offer.value, currency: offer.currency ?? "EUR" })} off`;
}

function conditions(offer: CouponOffer): string[] {
  const out: string[] = [];
  if (offer.minSubtotal) out.push(`on orders from ${money(offer.minSubtotal)}`);
  if (offer.categories && offer.categories.length > 0) out.push(`on ${offer.categories.join(", ")}`);
  if (offer.firstOrderOnly) out.push("on your first order");
  if (offer.usesLeft !== null && offer.usesLeft !== undefined) {
    out.push(offer.usesLeft === 1 ? "once more" : `${offer.usesLeft} more times`);
  }
  if (offer.validFrom && new Date(offer.validFrom).getTime() > Date.now()) out.push(`from ${when(offer.validFrom)}`);
  out.push(offer.validUntil ? `until ${when(offer.validUntil)}` : "no expiry");
  return out;
}

function OfferList() {
  const { api, session } = useApp();
  const loaded = useLoad(() => call(api.GET("/me/offers")), [session?.sub]);
  const items = loaded.data?.items ?? [];
  return (
    <>
      {loaded.loading && !loaded.data ? <Loading /> : null}
      <ErrorNote error={loaded.error} />
      {loaded.data && items.length === 0 ? <p data-testid="no-offers">No offers for you right now.</p> : null}
      <ul class="offers" data-testid="offers">
        {items.map((offer) => (
          <li key={offer.code} data-testid="offer">
            <strong>{worth(offer)}</strong> with the code{" "}
            <code data-testid="offer-code">{offer.code}</code>
            <br />
            <small>{conditions(offer).join(" · ")}</small>
          </li>
        ))}
      </ul>
      {items.length > 0 ? <p>Enter the code at checkout.</p> : null}
    </>
  );
}
