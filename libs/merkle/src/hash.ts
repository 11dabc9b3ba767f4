import { sha256 } from "@custody/crypto";
import { MerkleProofError } from "./errors.js";

// SHA-256 from @custody/crypto: portable (@noble) in the browser verifier, node:crypto in the
// services, the same bytes either way.

/** RFC 9162 §2.1 uses SHA-256 for the log's tree; every hash in a proof has this many bytes. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/**
 * MTH({}) = SHA-256() (RFC 9162 §2.1.1). Exported for callers; the library keeps its own copy so a
 * caller mutating this array cannot corrupt later results.
 */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));
const EMPTY_ROOT_PRIVATE = sha256(new Uint8Array(0));

/** A fresh copy of MTH({}), for results that must not alias a shared constant. */
export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT_PRIVATE.slice();
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}

/** Throws unless `value` is a Uint8Array (of any length). */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `${what}: expected Uint8Array, got ${typeName(value)}`);
  }
}

/**
 * Throws unless `value` is a 32-byte Uint8Array. Proof verification is attacker-facing: a short or
 * long "hash" must never reach the hash function, where 0x01||left||right would stop being an
 * unambiguous encoding of the two children.
 */
export function assertHash(value: unknown, what: string): asserts value is Uint8Array {
  assertBytes(value, what);
  if (value.length !== HASH_SIZE) {
    throw new MerkleProofError("BAD_HASH_SIZE", `${what}: expected ${HASH_SIZE}-byte hash, got length=${value.length}`);
  }
}

/** RFC 9162 §2.1.1: leaf hashes are domain-separated from node hashes by the 0x00 prefix. */
export function leafHash(entry: Uint8Array): Uint8Array {
  assertBytes(entry, "leafHash entry");
  return sha256(LEAF_PREFIX, entry);
}

/** RFC 9162 §2.1.1: an interior node is SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, "nodeHash left");
  assertHash(right, "nodeHash right");
  return sha256(NODE_PREFIX, left, right);
}

/**
 * Byte equality without an early exit. Roots are public, so this is hygiene rather than a
 * timing-attack defence; lengths are checked by the callers before we get here.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
