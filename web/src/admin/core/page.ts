/**
 * What every console page receives, so pages (core/ and more/) stay plain components the shell's
 * route table can map to without knowing anything about them.
 */
import type { Api } from "../../shared/api";
import type { Session } from "../../shared/auth";

export type { Api };

/** Staff roles are Cognito groups; a user in both is treated as admin (the wider one). */
export type Role = "admin" | "support";

export interface PageProps {
  api: Api;
  session: Session;
  role: Role;
  /** Route segments after the page's own, e.g. `["o_1"]` for `#/orders/o_1`. */
  params: string[];
}

/** The staff role a session holds, or null for a customer who opened the console. */
export function roleOf(session: Session): Role | null {
  if (session.groups.includes("admin")) return "admin";
  if (session.groups.includes("support")) return "support";
  return null;
}
