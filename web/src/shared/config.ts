/**
 * Run-time configuration of both web apps.
 *
 * One build runs locally and on AWS, so nothing environment-specific is baked in at build time:
 * the host (the local stack or `make deploy`) writes `config.json` at the root of the built files,
 * beside the storefront's `index.html`. The console lives one folder down (`admin/`), so each page
 * names the file's location in a `<meta name="app-config">` tag resolved against the page's own
 * URL — which keeps both apps working at `/` and under any path prefix (a CloudFront origin path,
 * the Vite dev server, a static host), unlike `import.meta.url`, which points at the hashed asset.
 */

export interface Config {
  /** The API's base URL, without a trailing slash (e.g. `http://127.0.0.1:3000`). */
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** Cognito's JSON API: moto's server locally, `https://cognito-idp.<region>.amazonaws.com/` on AWS. */
  cognitoEndpoint: string;
  stripePublishableKey: string;
  /** Stripe.js: localstripe's stand-in locally, `https://js.stripe.com/v3/` on AWS. */
  stripeJsUrl: string;
}

const REQUIRED: (keyof Config)[] = [
  "apiUrl",
  "region",
  "userPoolId",
  "userPoolClientId",
  "cognitoEndpoint",
  "stripePublishableKey",
  "stripeJsUrl",
];

/** Where this page's `config.json` is: the meta tag's value, else beside the page. */
export function configUrl(doc: Document = document): string {
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="app-config"]');
  return new URL(meta?.content || "config.json", doc.baseURI).toString();
}

let cached: Promise<Config> | null = null;

/** Fetches and checks `config.json` once per page load (every later call shares the answer). */
export function loadConfig(): Promise<Config> {
  cached ??= fetchConfig().catch((e: unknown) => {
    cached = null; // a failed load may be retried (e.g. the stack was still starting)
    throw e;
  });
  return cached;
}

async function fetchConfig(): Promise<Config> {
  const url = configUrl();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store", signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    throw new Error(`Could not load ${url} (HTTP ${response.status}): the host writes it next to the built files.`);
  }
  const raw = (await response.json()) as Partial<Config>;
  const missing = REQUIRED.filter((key) => typeof raw[key] !== "string" || raw[key] === "");
  if (missing.length > 0) {
    throw new Error(`${url} lacks ${missing.join(", ")}`);
  }
  const config = raw as Config;
  return { ...config, apiUrl: config.apiUrl.replace(/\/+$/, "") };
}
