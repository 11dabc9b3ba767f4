import type { Check } from "./checks.js";

/** One output line: `✓ name — detail` or `✗ name — why` (U+2713 / U+2717, U+2014). */
export function formatCheck(check: Check): string {
  return `${check.ok ? "\u2713" : "\u2717"} ${check.name} \u2014 ${check.detail}`;
}
