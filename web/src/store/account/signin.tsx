/**
 * Sign in, sign up (with the emailed confirmation code) and sign out for shoppers.
 *
 * The user pool verifies email addresses (template.yaml `AutoVerifiedAttributes: [email]`), so a new
 * account is UNCONFIRMED until the code Cognito mails is entered; the page then signs the shopper in
 * with the password they just chose, so sign-up ends signed in. Locally the pool is moto's, which
 * mails nothing and accepts any code: the page says so when the endpoint is not AWS's.
 */
import { useState } from "preact/hooks";

import { AuthError, confirmSignUp, signIn, signOut, signUp } from "../../shared/auth";
import type { Config } from "../../shared/config";
import { ErrorNote, Link, hashQuery, navigate } from "../../shared/ui";
import { type PageProps, useApp } from "../app";

/** Where to go after signing in: `?next=` when it is an in-app path, else the account. */
function nextRoute(): string {
  const next = hashQuery().get("next") ?? "";
  return /^\/[^/\\]/.test(next) || next === "/" ? next : "/me";
}

/** Cognito's refusals in words a shopper can act on (its own messages name internals). */
function authError(e: unknown): unknown {
  if (!(e instanceof AuthError)) return e;
  const words: Record<string, string> = {
    NotAuthorizedException: "The email or password is not right.",
    UserNotFoundException: "The email or password is not right.",
    UsernameExistsException: "An account with this email exists already: sign in instead.",
    InvalidPasswordException:
      "Choose a password of at least 12 characters with upper- and lower-case letters and a digit.",
    CodeMismatchException: "That code is not right; check the latest email.",
    ExpiredCodeException: "That code has expired; sign up again for a new one.",
    TooManyRequestsException: "Too many attempts; please wait a minute.",
  };
  const message = words[e.code];
  return message ? new Error(message) : e;
}

/** moto's local pool mails nothing and takes any code; Cognito on AWS mails a real one. */
function isLocalPool(config: Config): boolean {
  try {
    return !new URL(config.cognitoEndpoint).hostname.endsWith(".amazonaws.com");
  } catch {
    return false;
  }
}

export function SignInPage(_props: PageProps) {
  const { config, session } = useApp();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [unconfirmed, setUnconfirmed] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(config, email.trim(), password);
      navigate(nextRoute());
    } catch (e) {
      if (e instanceof AuthError && e.code === "UserNotConfirmedException") setUnconfirmed(true);
      else setError(authError(e));
    } finally {
      setBusy(false);
    }
  }

  if (unconfirmed) {
    return <ConfirmStep config={config} email={email.trim()} password={password} />;
  }
  return (
    <section class="signin" data-testid="signin-page">
      <h1>Sign in</h1>
      {session ? (
        <p data-testid="signed-in-as">
          You are signed in as <strong>{session.email}</strong>. <SignOutButton />
        </p>
      ) : null}
      <form onSubmit={submit} data-testid="signin-form">
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
        <ErrorNote error={error} />
        <button type="submit" disabled={busy} data-testid="signin-submit">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}

export function SignUpPage(_props: PageProps) {
  const { config } = useApp();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [step, setStep] = useState<"form" | "confirm">("form");

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { userConfirmed } = await signUp(config, email.trim(), password);
      if (userConfirmed) {
        await signIn(config, email.trim(), password);
        navigate(nextRoute());
      } else {
        setStep("confirm");
      }
    } catch (e) {
      setError(authError(e));
    } finally {
      setBusy(false);
    }
  }

  if (step === "confirm") {
    return <ConfirmStep config={config} email={email.trim()} password={password} />;
  }
  return (
    <section class="signin" data-testid="signup-page">
      <h1>Create an account</h1>
      <form onSubmit={submit} data-testid="signup-form">
        <label>
          Email
          <input
            type="email"
            autocomplete="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            data-testid="signup-email"
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="new-password"
            required
            minLength={12}
            aria-describedby="password-rules"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="signup-password"
          />
        </label>
        <small id="password-rules">At least 12 characters, with upper- and lower-case letters and a digit.</small>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy} data-testid="signup-submit">
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}

/** The emailed code, then sign-in with the password just chosen (kept only in this component's state). */
function ConfirmStep({ config, email, password }: { config: Config; email: string; password: string }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await confirmSignUp(config, email, code.trim());
      await signIn(config, email, password);
      navigate(nextRoute());
    } catch (e) {
      setError(authError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="signin" data-testid="confirm-page">
      <h1>Confirm your email</h1>
      <p>
        We sent a code to <strong>{email}</strong>.
        {isLocalPool(config) ? (
          <span data-testid="confirm-local-hint"> The local user pool sends no email and accepts any code.</span>
        ) : null}
      </p>
      <form onSubmit={submit} data-testid="confirm-form">
        <label>
          Confirmation code
          <input
            type="text"
            inputMode="numeric"
            autocomplete="one-time-code"
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
            data-testid="confirm-code"
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy} data-testid="confirm-submit">
          {busy ? "Confirming…" : "Confirm and sign in"}
        </button>
      </form>
    </section>
  );
}

/** Forgets the tab's session and goes to the shop's front page. */
export function SignOutButton() {
  return (
    <button
      type="button"
      class="link"
      onClick={() => {
        signOut();
        navigate("/");
      }}
      data-testid="account-signout"
    >
      Sign out
    </button>
  );
}
