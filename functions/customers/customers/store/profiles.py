"""The customer's profile (`CUSTOMER#<sub> / PROFILE`): name, phone, consent, the email of their
token, a copy of their Stripe Customer's id, their default address and how many addresses they keep."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from common.store import iso, parse_time
from customers.models import Profile
from customers.store.base import PROFILE, CustomersTable, customer_pk


def profile_of(sub: str, values: Mapping[str, Any]) -> Profile:
    return Profile(
        customer_id=sub,
        email=values.get("email"),
        name=values.get("name"),
        phone=values.get("phone"),
        marketing_consent=bool(values.get("marketingConsent", False)),
        stripe_customer_id=values.get("stripeCustomerId"),
        default_address_id=values.get("defaultAddressId"),
        updated_at=parse_time(values.get("updatedAt")),
    )


class ProfileStore(CustomersTable):
    def get_profile(self, sub: str) -> Profile | None:
        values = self.get(customer_pk(sub), PROFILE)
        return profile_of(sub, values) if values else None

    def put_profile(
        self, sub: str, *, email: str | None, name: str, phone: str | None, consent: bool, now: datetime
    ) -> Profile:
        """Create or replace the customer's own details (addresses and the Stripe id stay as they are)."""
        sets = ["customerId = :sub", "#name = :name", "marketingConsent = :consent", "updatedAt = :now"]
        removes = []
        values: dict[str, Any] = {":sub": sub, ":name": name, ":consent": consent, ":now": iso(now)}
        for attribute, value in (("phone", phone), ("email", email)):
            if value is None:
                removes.append(attribute)
            else:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = value
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        saved = self.update(customer_pk(sub), PROFILE, expression, values=values, names={"#name": "name"})
        return profile_of(sub, saved)

    def set_stripe_customer(self, sub: str, stripe_customer_id: str) -> None:
        """Keep the Stripe Customer's id on the profile (payments owns the mapping; this is a copy)."""
        self.update(
            customer_pk(sub),
            PROFILE,
            "SET customerId = :sub, stripeCustomerId = :id",
            values={":sub": sub, ":id": stripe_customer_id},
        )
