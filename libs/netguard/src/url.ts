import { isIP } from "node:net";
import { TargetRefusedError } from "./errors.js";
import { isLocalhostName, stripBrackets } from "./hostnames.js";
import { checkAddress, checkLocalhostName } from "./policy.js";
import type { TargetPolicy } from "./policy.js";

/** Longest target URL we store and call; generous for real endpoints, small enough to index and log. */
export const MAX_TARGET_URL_LENGTH = 2048;

// ASCII controls, space and DEL. The WHATWG parser silently strips or removes some of these, so the
// URL we would call could differ from the text the customer registered; refuse instead of guessing.
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;

/**
 * Validates a customer-supplied webhook URL and returns the parsed (WHATWG-normalised) URL.
 * Checks that need no DNS happen here: scheme, credentials, fragment, length, and the host when it
 * is an IP literal (in any form the URL parser normalises: decimal, hex, octal, short) or a
 * localhost name. Names are checked again at connect time by guardedLookup.
 */
export function parseTargetUrl(raw: string, policy: TargetPolicy): URL {
  if (typeof raw !== "string" || raw === "") throw new TargetRefusedError("URL_INVALID", "URL is empty or not a string");
  if (raw.length > MAX_TARGET_URL_LENGTH) {
    throw new TargetRefusedError("URL_TOO_LONG", `URL is ${raw.length} characters, the limit is ${MAX_TARGET_URL_LENGTH}`);
  }
  if (CONTROL_OR_SPACE.test(raw)) {
    throw new TargetRefusedError("URL_INVALID", "URL contains whitespace or control characters");
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // No `cause`: node's ERR_INVALID_URL carries the raw input, which must not travel into logs.
    throw new TargetRefusedError("URL_INVALID", "URL is not an absolute URL");
  }
  // Normalisation can grow the text (percent-encoding, punycode); the limit applies to what we call.
  if (url.href.length > MAX_TARGET_URL_LENGTH) {
    throw new TargetRefusedError("URL_TOO_LONG", `normalised URL is ${url.href.length} characters, the limit is ${MAX_TARGET_URL_LENGTH}`);
  }

  const allowLoopback = policy?.allowLoopback === true;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowLoopback)) {
    const allowed = allowLoopback ? "https: or http:" : "https:";
    throw new TargetRefusedError("SCHEME_NOT_ALLOWED", `scheme ${url.protocol} is not allowed, use ${allowed}`);
  }
  if (url.username !== "" || url.password !== "") {
    // Never echo them: they are the secret.
    throw new TargetRefusedError("CREDENTIALS_IN_URL", "URL must not contain a username or password");
  }
  // A '#' always starts the fragment in WHATWG URLs, so checking href also catches an empty "#".
  if (url.href.includes("#")) {
    throw new TargetRefusedError("URL_INVALID", "URL must not contain a fragment");
  }
  if (url.hostname === "") throw new TargetRefusedError("URL_INVALID", "URL has no host");
  if (url.port === "0") throw new TargetRefusedError("URL_INVALID", "port 0 is not a valid target port");

  const literal = stripBrackets(url.hostname);
  if (isIP(literal) !== 0) checkAddress(literal, { allowLoopback });
  else if (isLocalhostName(url.hostname)) checkLocalhostName(url.hostname, { allowLoopback });
  return url;
}
