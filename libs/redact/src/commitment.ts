/**
 * The salted hash commitment recorded for each removed field.
 *
 * Specification (version 1). For a removed field with path P, salt S and removed value V:
 *
 *   commitment = lowercase_hex( SHA-256( preimage ) )          -- 64 characters [0-9a-f]
 *   preimage   = ASCII("custody-redaction-v1")                  -- 20 bytes, the domain tag
 *             || 0x00
 *             || UTF-8(P)                                       -- the pointer string exactly as recorded,
 *                                                                  still escaped ("~0", "~1"), leading "/"
 *             || 0x00
 *             || salt bytes                                     -- exactly 16 bytes: base64url-decode(S)
 *             || 0x00
 *             || UTF-8(JCS(V))                                  -- RFC 8785 canonical JSON of V
 *
 * - S is the unpadded base64url (RFC 4648 §5) encoding of 16 bytes, so exactly 22 characters from
 *   [A-Za-z0-9_-] whose last character is one of "AQgw" (the 4 trailing bits are zero). Anything else
 *   (padding, standard-alphabet "+/", other lengths) is rejected, not normalized.
 * - P is a pointer accepted by parsePointer: non-empty, starts with "/", valid "~0"/"~1" escapes,
 *   at most 32 tokens and 512 UTF-8 bytes, no lone surrogates and no U+0000. Because P has no 0x00
 *   byte and the salt has a fixed length, the preimage parses back into (P, salt, V) uniquely.
 * - V is the value found at P in the original event `data` before any removal. For an object member
 *   that is the member's value; for an array element the element (which may itself be null).
 *   JCS(V) contains no raw 0x00 (RFC 8785 escapes U+0000 as "\u0000").
 *
 * The salt keeps low-entropy values (a yes/no flag, a birth year) from being brute-forced out of a
 * published commitment; the path in the preimage stops a commitment being replayed for another field.
 */
import { sha256 } from "@custody/crypto";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { decodeBase64Url, toHex } from "@custody/encoding";
import { RedactionError } from "./errors.js";
import { canonicalJson, canonicalJsonOf } from "./json.js";
import type { JsonValue } from "./json.js";
import { parsePointer } from "./pointer.js";

export const COMMITMENT_DOMAIN = "custody-redaction-v1";
export const SALT_SIZE = 16;

/** One removed field as recorded in the "redacted" custody hop. */
export type RemovedField = {
  /** RFC 6901 pointer into the event's `data`, as declared in `personalDataFields`. */
  path: string;
  /** Unpadded base64url of 16 random bytes, fresh for each field of each delivery. */
  salt: string;
  /** 64 lowercase hex digits; see the specification at the top of commitment.ts. */
  commitment: string;
};

const ZERO = new Uint8Array([0]);
const DOMAIN_BYTES = utf8ToBytes(COMMITMENT_DOMAIN);
const COMMITMENT_RE = /^[0-9a-f]{64}$/;

/** Decodes a salt, or throws BAD_SALT. */
export function decodeSalt(salt: string): Uint8Array {
  const bytes = typeof salt === "string" && salt.length === 22 ? decodeBase64Url(salt) : undefined;
  if (bytes === undefined || bytes.length !== SALT_SIZE) {
    throw new RedactionError("BAD_SALT", `salt must be ${SALT_SIZE} bytes as canonical unpadded base64url (22 characters)`);
  }
  return bytes;
}

/** Throws BAD_COMMITMENT unless `c` is 64 lowercase hex digits. */
export function assertCommitmentFormat(c: string, path: string): void {
  if (typeof c !== "string" || !COMMITMENT_RE.test(c)) {
    throw new RedactionError("BAD_COMMITMENT", `commitment for ${JSON.stringify(path)} must be 64 lowercase hex digits`);
  }
}

/** Preimage for an already validated path, decoded salt and canonical value text. */
export function preimageOf(path: string, salt: Uint8Array, canonicalValue: string): Uint8Array {
  return concatBytes(DOMAIN_BYTES, ZERO, utf8ToBytes(path), ZERO, salt, ZERO, utf8ToBytes(canonicalValue));
}

export function commitmentOf(path: string, salt: Uint8Array, value: JsonValue): string {
  return toHex(sha256(preimageOf(path, salt, canonicalJsonOf(value))));
}

/** The exact bytes hashed for a commitment (for independent verifiers and debugging). Validates all three inputs. */
export function commitmentPreimage(path: string, salt: string, value: JsonValue): Uint8Array {
  parsePointer(path);
  return preimageOf(path, decodeSalt(salt), canonicalJson(value, "value"));
}

/** The commitment to `value` removed at `path` with `salt`. Validates all three inputs. */
export function computeCommitment(path: string, salt: string, value: JsonValue): string {
  return toHex(sha256(commitmentPreimage(path, salt, value)));
}

/** A RemovedField checked for shape and format, with its parsed tokens and salt bytes. */
export type CheckedField = { path: string; tokens: string[]; salt: Uint8Array; saltText: string; commitment: string };

/**
 * Validates an untrusted RemovedField: an object whose `path`, `salt` and `commitment` are strings
 * (BAD_ARGUMENT), a valid pointer (BAD_POINTER), salt (BAD_SALT) and commitment (BAD_COMMITMENT).
 * Other properties are ignored: only these three are ever hashed or compared.
 */
export function checkRemovedField(field: unknown, where: string): CheckedField {
  if (field === null || typeof field !== "object" || Array.isArray(field)) {
    throw new RedactionError("BAD_ARGUMENT", `${where}: a removed field must be an object`);
  }
  const { path, salt, commitment } = field as Record<string, unknown>;
  if (typeof path !== "string" || typeof salt !== "string" || typeof commitment !== "string") {
    throw new RedactionError("BAD_ARGUMENT", `${where}: a removed field needs string path, salt and commitment`);
  }
  const tokens = parsePointer(path);
  const saltBytes = decodeSalt(salt);
  assertCommitmentFormat(commitment, path);
  return { path, tokens, salt: saltBytes, saltText: salt, commitment };
}

/** Validates a removed-field list and rejects repeated paths (DUPLICATE_PATH). */
export function checkRemovedList(removed: unknown, where: string): CheckedField[] {
  if (!Array.isArray(removed)) throw new RedactionError("BAD_ARGUMENT", `${where}: removed must be an array`);
  const fields = removed.map((f: unknown, i) => checkRemovedField(f, `${where}: removed[${i}]`));
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.path)) throw new RedactionError("DUPLICATE_PATH", `${where}: path ${JSON.stringify(f.path)} appears more than once`);
    seen.add(f.path);
  }
  return fields;
}

/** Sort order for paths: UTF-16 code units, the same order RFC 8785 uses for object keys. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
