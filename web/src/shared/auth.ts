/**
 * Sign-in against the shop's user pool through Cognito's own JSON API — no SDK.
 *
 * Locally the endpoint is moto's Cognito, on AWS `https://cognito-idp.<region>.amazonaws.com/`;
 * the same requests work against both. The flow is USER_PASSWORD_AUTH (docs/decisions.md: SRP
 * needs a client library, and the password only ever travels over TLS to Cognito itself).
 * The ID token is what the API's authorizer checks; it is kept in sessionStorage (gone with the
 * tab, never in a cookie the API could be tricked into honouring) and dropped when it expires.
 */
import { useEffect, useState } from "preact/hooks";

import type { Config } from "./config";

export interface Session {
  idToken: string;
  email: string;
  /** `cognito:groups`: `admin`, `support`, ... (empty for shoppers). */
  groups: string[];
  sub: string;
  /** When the ID token expires, in epoch milliseconds. */
  expiresAt: number;
}

/** A refusal from Cognito, e.g. `NotAuthorizedException`, `UsernameExistsException`, `CodeMismatchException`. */
export class AuthError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "AuthError";
    this.code = code;
  }
}

const STORAGE_KEY = "storekeeper.session";
const CHANGED = "storekeeper:session";
const TIMEOUT_MS = 15_000;

async function cognito<T>(config: Config, action: string, body: object): Promise<T> {
  const response = await fetch(config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  const payload = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (!response.ok) {
    // Cognito names the error in `__type` (sometimes prefixed `namespace#`) or the x-amzn-ErrorType header.
    const rawType = String(payload["__type"] ?? response.headers.get("x-amzn-ErrorType") ?? "CognitoError");
    const code = rawType.split("#").pop()?.split(":")[0] ?? rawType;
    const message = String(payload["message"] ?? payload["Message"] ?? code);
    throw new AuthError(code, message);
  }
  return payload as T;
}

/** The claims of a JWT's payload (base64url JSON); the signature is the API's business, not ours. */
export function decodeJwt(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new AuthError("InvalidToken", "Not a JWT");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionFromToken(idToken: string): Session {
  const claims = decodeJwt(idToken);
  const groups = claims["cognito:groups"];
  const exp = typeof claims["exp"] === "number" ? claims["exp"] * 1000 : Date.now() + 3600_000;
  return {
    idToken,
    email: String(claims["email"] ?? claims["cognito:username"] ?? ""),
    groups: Array.isArray(groups) ? groups.map(String) : [],
    sub: String(claims["sub"] ?? ""),
    expiresAt: exp,
  };
}

function store(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
  window.dispatchEvent(new Event(CHANGED));
}

interface InitiateAuthAnswer {
  AuthenticationResult?: { IdToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
}

/** Signs in with email and password; the session is kept for the tab and returned. */
export async function signIn(config: Config, email: string, password: string): Promise<Session> {
  const answer = await cognito<InitiateAuthAnswer>(config, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.userPoolClientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  const idToken = answer.AuthenticationResult?.IdToken;
  if (!idToken) {
    throw new AuthError(answer.ChallengeName ?? "NoToken", "This account needs a step the web app does not offer yet.");
  }
  const session = sessionFromToken(idToken);
  // Trust the shorter of the token's own expiry and Cognito's ExpiresIn (clock skew).
  const expiresIn = answer.AuthenticationResult?.ExpiresIn;
  if (typeof expiresIn === "number") session.expiresAt = Math.min(session.expiresAt, Date.now() + expiresIn * 1000);
  store(session);
  return session;
}

/** Creates an account; Cognito then mails a confirmation code (see `confirmSignUp`). */
export async function signUp(config: Config, email: string, password: string): Promise<{ userConfirmed: boolean }> {
  const answer = await cognito<{ UserConfirmed?: boolean }>(config, "SignUp", {
    ClientId: config.userPoolClientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
  return { userConfirmed: answer.UserConfirmed === true };
}

export async function confirmSignUp(config: Config, email: string, code: string): Promise<void> {
  await cognito<object>(config, "ConfirmSignUp", {
    ClientId: config.userPoolClientId,
    Username: email,
    ConfirmationCode: code,
  });
}

export function signOut(): void {
  store(null);
}

/** The signed-in session of this tab, or null when there is none or its token has expired. */
export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.idToken !== "string" || !(session.expiresAt > Date.now() + 5_000)) {
      sessionStorage.removeItem(STORAGE_KEY);
      return null;
    }
    return session;
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
}

/** The current session, re-rendering on sign-in, sign-out and expiry. */
export function useSession(): Session | null {
  const [session, setSession] = useState<Session | null>(currentSession);
  useEffect(() => {
    const update = (): void => setSession(currentSession());
    window.addEventListener(CHANGED, update);
    const timer = session ? setTimeout(update, Math.max(0, session.expiresAt - Date.now())) : undefined;
    return () => {
      window.removeEventListener(CHANGED, update);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [session]);
  return session;
}

/** Whether the session belongs to a group (`admin`, `support`). */
export function hasGroup(session: Session | null, group: string): boolean {
  return session?.groups.includes(group) ?? false;
}
