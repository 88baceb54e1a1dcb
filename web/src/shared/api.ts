/**
 * The typed API client both apps use.
 *
 * Types come from `schema.d.ts`, generated from the backend's `docs/openapi.json` by `npm run gen`
 * (never committed), so a renamed field or route breaks `tsc` here instead of a page at run time.
 * Calls go cross-origin to `config.apiUrl`: every request exercises the API's real CORS path.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { Config } from "./config";
import type { paths } from "./schema";

export type Schema = paths;
export type Api = Client<paths>;

/** The API's one error shape (`common.http`): `{"error": {"code", "message", "details", "requestId"}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

/** A non-2xx answer of the API, carrying its error code (e.g. `OutOfStock`) for pages to branch on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(status: number, body: unknown) {
    const err = isErrorBody(body) ? body.error : undefined;
    super(err?.message ?? `The API answered HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = err?.code ?? `HTTP_${status}`;
    this.details = err?.details;
    this.requestId = err?.requestId;
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const err = (body as { error: unknown }).error;
  return typeof err === "object" && err !== null && "message" in err;
}

/** A human sentence for any thrown value (API errors, network failures, timeouts). */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return "The shop did not answer in time. Please try again.";
  }
  if (e instanceof TypeError) return "Could not reach the shop. Check your connection and try again.";
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Every request gives up after this long (the API's own timeout is 29 s on API Gateway). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * An openapi-fetch client for `config.apiUrl`; `token()` is asked before each request so a sign-in
 * or sign-out takes effect at once (pass `() => currentSession()?.idToken ?? null`).
 */
export function makeApi(config: Config, token: () => string | null): Api {
  const client = createClient<paths>({
    baseUrl: config.apiUrl,
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) }),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const idToken = token();
      if (idToken) request.headers.set("Authorization", `Bearer ${idToken}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/**
 * Unwraps an openapi-fetch answer: the body on success, an `ApiError` thrown otherwise.
 * `const product = await call(api.GET("/products/{productId}", {params: {path: {productId}}}));`
 */
export async function call<D>(pending: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  const { data, error, response } = await pending;
  if (!response.ok) throw new ApiError(response.status, error);
  return data as D;
}
