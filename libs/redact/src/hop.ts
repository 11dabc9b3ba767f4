/**
 * The bytes hashed for a delivery's "redacted" chain-of-custody hop.
 *
 * Specification (version 1):
 *
 *   hop bytes = UTF-8( JCS( {"v": 1, "payload": D, "removed": R} ) )
 *
 * where JCS is RFC 8785, D is the delivered payload (any JSON value) and R is the array of removed
 * fields, each exactly {"path": …, "salt": …, "commitment": …} (no other members), ordered by `path`
 * comparing UTF-16 code units (the order RFC 8785 uses for keys; for paths limited to the Basic
 * Multilingual Plane it equals byte order). Paths are unique. Since JCS sorts member names, the text
 * always has the layout
 *
 *   {"payload":<JCS(D)>,"removed":[{"commitment":"<hex>","path":"<pointer>","salt":"<b64url>"},…],"v":1}
 *
 * and a delivery with nothing removed gives {"payload":<JCS(D)>,"removed":[],"v":1}.
 */
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { checkRemovedList, comparePaths } from "./commitment.js";
import type { RemovedField } from "./commitment.js";
import { assertJson, canonicalJsonOf } from "./json.js";
import type { JsonValue } from "./json.js";

export const REDACTION_HOP_VERSION = 1;

/**
 * The canonical hop bytes. `removed` may come in any order (it is sorted here, so the bytes do not
 * depend on it); every entry is validated, and a repeated path is DUPLICATE_PATH. Codes:
 * BAD_ARGUMENT, BAD_POINTER, BAD_SALT, BAD_COMMITMENT, DUPLICATE_PATH, NOT_JSON.
 */
export function redactionHopBytes(delivered: JsonValue, removed: RemovedField[]): Uint8Array {
  const fields = checkRemovedList(removed, "redactionHopBytes");
  assertJson(delivered, "delivered");
  const entries = fields.map((f) => ({ path: f.path, salt: f.saltText, commitment: f.commitment })).sort((a, b) => comparePaths(a.path, b.path));
  return utf8ToBytes(canonicalJsonOf({ v: REDACTION_HOP_VERSION, payload: delivered, removed: entries }));
}
