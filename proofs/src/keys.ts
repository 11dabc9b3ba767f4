/**
 * Reading platform verifier keys as people will hand them to the verifier: one C2SP verifier key
 * (`name+hexid+base64`), several separated by whitespace or newlines (retired keys stay valid for
 * old proofs), or the JSON that `GET /api/v2/proofs/keys` returns (`{"keys": [{"vkey": …}, …]}`).
 */
import { parseVerifierKey, type VerifierKey } from "@custody/note";
import { fail, reason } from "./entries.js";

/** Generous: a key is ~100 characters and a platform keeps a handful. */
const MAX_KEYS_TEXT = 1 << 20;
const MAX_KEYS = 1000;

function fromJson(value: unknown): string[] | undefined {
  const list = Array.isArray(value) ? value : value !== null && typeof value === "object" ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) return undefined;
  return list.map((item, i) => {
    const vkey = typeof item === "string" ? item : item !== null && typeof item === "object" ? (item as { vkey?: unknown }).vkey : undefined;
    if (typeof vkey !== "string") fail(`keys[${i}] has no vkey string`);
    return vkey;
  });
}

/** Parses key text into verifier keys; throws (CheckFailure) on anything that is not a valid key. */
export function parseKeys(text: string): VerifierKey[] {
  if (typeof text !== "string" || text.length > MAX_KEYS_TEXT) fail("verifier key text is missing or too long");
  const trimmed = text.trim();
  let items: string[] | undefined;
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      fail(`verifier keys look like JSON but do not parse: ${reason(err)}`);
    }
    items = fromJson(json);
    if (items === undefined) fail('verifier keys JSON must be {"keys": [{"vkey": …}]} or an array of key strings');
  } else {
    // A verifier key contains no whitespace (names cannot, base64 does not), so whitespace separates
    // keys; lines starting with # are comments.
    items = trimmed
      .split("\n")
      .filter((line) => !line.trim().startsWith("#"))
      .join(" ")
      .split(/\s+/)
      .filter((s) => s.length > 0);
  }
  if (items.length === 0) fail("no verifier key given");
  if (items.length > MAX_KEYS) fail(`more than ${MAX_KEYS} verifier keys`);
  return items.map((item) => {
    try {
      return parseVerifierKey(item);
    } catch (err) {
      return fail(`verifier key ${JSON.stringify(item.length > 80 ? `${item.slice(0, 80)}…` : item)}: ${reason(err)}`);
    }
  });
}
