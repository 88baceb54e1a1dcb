/**
 * How a storefront written in TypeScript uses the types openapi-typescript makes from docs/openapi.json.
 * `make clients` generates them into build/clients/typescript/openapi.ts and compiles this file with
 * `tsc --strict --noEmit`: it fails when the document stops giving a client what it needs without a
 * workaround — the checkout body, `Idempotency-Key` spelled that way and required, `Location` as a
 * string on every 201/202, error codes as a union to switch on (not a bare string).
 */
import type { paths } from "../../build/clients/typescript/openapi";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Methods = "get" | "put" | "post" | "delete" | "patch";

// --- Checkout: the body, the key header, the 202 and its Location ------------------------------------
type Checkout = paths["/orders"]["post"];
type CheckoutBody = Checkout["requestBody"]["content"]["application/json"];
type CheckoutHeaders = Checkout["parameters"]["header"];
type Accepted = Checkout["responses"][202];

const body: CheckoutBody = {
  items: [{ sku: "MUG-INK", quantity: 2 }],
  shippingAddress: { name: "Alice Example", line1: "1 Harbour Street", city: "Hamburg", postalCode: "20457", country: "DE" },
};
// The header is named as HTTP names it, and a checkout without it does not type-check.
const headers: CheckoutHeaders = { "Idempotency-Key": "checkout-7f3c2a9e" };
// @ts-expect-error -- the key is required
const withoutKey: CheckoutHeaders = {};
const keyIsAString: Equals<CheckoutHeaders["Idempotency-Key"], string> = true;
const locationIsAString: Equals<NonNullable<Accepted["headers"]["Location"]>, string> = true;

// --- Every 201 and 202 of the API declares Location as a string --------------------------------------
type Created<R> = (R extends { 201: infer C } ? C : never) | (R extends { 202: infer A } ? A : never);
type LocationOk<C> = [C] extends [never]
  ? true
  : C extends { headers: { Location?: infer L } }
    ? unknown extends L
      ? false
      : Equals<NonNullable<L>, string>
    : false;
type WithoutLocation = {
  [P in keyof paths]: {
    [M in Methods]: paths[P][M] extends { responses: infer R } ? (LocationOk<Created<R>> extends true ? never : `${M} ${P}`) : never;
  }[Methods];
}[keyof paths];
// When operations lack it, tsc names them: Type '"post /..."' does not satisfy the constraint 'never'.
type None<T extends never> = T;
type EveryCreatedHasLocation = None<WithoutLocation>;

// --- Errors a client can switch on --------------------------------------------------------------------
type CheckoutError = Checkout["responses"][409]["content"]["application/json"];
type ErrorCode = CheckoutError["error"]["code"];
const codeIsAUnion: string extends ErrorCode ? false : true = true;
// @ts-expect-error -- not a code the API answers
const unknownCode: ErrorCode = "no_such_code";

function explain(error: CheckoutError): string {
  switch (error.error.code) {
    case "out_of_stock":
      return "Some items sold out; the order names them.";
    case "idempotency_key_reused":
      return "This key was used for another checkout; make a new one.";
    default:
      return error.error.message;
  }
}

// --- A checkout as a storefront sends it --------------------------------------------------------------
export async function checkout(api: string, token: string, key: string): Promise<string> {
  const keyHeader: CheckoutHeaders = { ...headers, "Idempotency-Key": key };
  const response = await fetch(`${api}/orders`, {
    method: "POST",
    headers: { ...keyHeader, Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) {
    throw new Error(explain((await response.json()) as CheckoutError));
  }
  const order = (await response.json()) as Accepted["content"]["application/json"];
  const location: NonNullable<Accepted["headers"]["Location"]> =
    response.headers.get("Location") ?? `/orders/${order.orderId}`;
  return location;
}

export type Checks = EveryCreatedHasLocation;
export const checks = [keyIsAString, locationIsAString, codeIsAUnion, withoutKey, unknownCode];
