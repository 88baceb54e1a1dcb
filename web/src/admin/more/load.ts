/**
 * Small helpers of the console's second half (coupons, customers, affiliates, pricing, reports):
 * the API's schema types by name, dates for the report pickers, and percents typed by staff.
 */
import type { components } from "../../shared/schema";

export type Schemas = components["schemas"];

/** A `<input type="date">` value for today, `days` back (the shop's reports take plain dates). */
export function isoDay(daysBack = 0): string {
  const d = new Date();
  d.setDate(d.getDate() - daysBack);
  const month = String(d.getMonth() + 1).padStart(2, "0");
  const day = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${month}-${day}`;
}

/** A rate as the API takes it ("19", "5.5") from what staff type ("19 %", "5,5"); null if invalid. */
export function parsePercent(text: string): string | null {
  const clean = text.trim().replace(/\s*%$/, "").replace(",", ".");
  if (!/^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$/.test(clean)) return null;
  return clean;
}
