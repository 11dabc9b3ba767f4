import { sha256 } from "@custody/crypto";
import { treeLevels } from "@custody/merkle";
import { allocBytes, fromHex, toHex } from "@custody/encoding";

/** The hops sealed before a delivery attempt is sent, in tree order (proofs/FORMAT.md §7). */
export const SEALED_HOPS = ["ingested", "redacted", "prepared", "signed"] as const;
export type SealedHop = (typeof SEALED_HOPS)[number];
export type SealedHops = Record<SealedHop, Uint8Array>;

export class CustodyFormatError extends Error {
  override readonly name = "CustodyFormatError";
  constructor(
    readonly code: "BAD_HOP" | "BAD_HEADER" | "BAD_SEAL" | "BAD_RECORD" | "MISMATCH",
    message: string,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();
const HOP_DOMAIN = encoder.encode("custody-hop/v1");

/**
 * A hop's leaf in the custody tree: `"custody-hop/v1" || 0x00 || name || 0x00 || hash(32)`. The name
 * is inside the leaf so a hash cannot be moved to another hop's position unnoticed.
 */
export function hopLeafEntry(name: SealedHop, hash: Uint8Array): Uint8Array {
  if (hash.length !== 32) throw new CustodyFormatError("BAD_HOP", `hop ${name}: expected a 32-byte hash, got ${hash.length}`);
  const nameBytes = encoder.encode(name);
  const out = new Uint8Array(HOP_DOMAIN.length + 1 + nameBytes.length + 1 + 32);
  out.set(HOP_DOMAIN, 0);
  out.set(nameBytes, HOP_DOMAIN.length + 1);
  out.set(hash, HOP_DOMAIN.length + 1 + nameBytes.length + 1);
  return out;
}

// `"custody-hop/v1" || 0x00 || name || 0x00` of each hop, built once: a root is computed per attempt.
const HOP_PREFIXES = Object.fromEntries(SEALED_HOPS.map((name) => [name, hopLeafEntry(name, new Uint8Array(32)).slice(0, -32)])) as Record<SealedHop, Uint8Array>;
const LEAF = Uint8Array.of(0x00);

/** RFC 9162 root over the four sealed hops' leaves, in SEALED_HOPS order. */
export function custodyRoot(hops: SealedHops): Uint8Array {
  return treeLevels(
    SEALED_HOPS.map((name) => {
      if (hops[name].length !== 32) throw new CustodyFormatError("BAD_HOP", `hop ${name}: expected a 32-byte hash, got ${hops[name].length}`);
      // leafHash(hopLeafEntry(name, hash)), without building the entry.
      return sha256(LEAF, HOP_PREFIXES[name], hops[name]);
    }),
  ).root;
}

/** The `prepared` hop: SHA-256 of the exact body bytes sent. */
export function preparedHop(body: Uint8Array): Uint8Array {
  return sha256(body);
}

/** SHA-256 of hop bytes (the redacted hop's canonical JSON, the signed hop's header lines). */
export function hashHopBytes(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

export function hopsToHex(hops: SealedHops): Record<SealedHop, string> {
  return { ingested: toHex(hops.ingested), redacted: toHex(hops.redacted), prepared: toHex(hops.prepared), signed: toHex(hops.signed) };
}

export function hopsFromHex(hex: Record<string, unknown>): SealedHops {
  const out = {} as SealedHops;
  for (const name of SEALED_HOPS) {
    const value = hex[name];
    if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) throw new CustodyFormatError("BAD_HOP", `hop ${name} must be 64 lowercase hex characters`);
    out[name] = fromHex(value);
  }
  return out;
}

/** The four hops as stored: ingested || redacted || prepared || signed, 32 bytes each (SEALED_HOPS order). */
export function hopsToBytes(hops: SealedHops): Uint8Array {
  const out = allocBytes(32 * SEALED_HOPS.length);
  SEALED_HOPS.forEach((name, i) => {
    if (hops[name].length !== 32) throw new CustodyFormatError("BAD_HOP", `hop ${name}: expected a 32-byte hash, got ${hops[name].length}`);
    out.set(hops[name], i * 32);
  });
  return out;
}

export function hopsFromBytes(bytes: Uint8Array): SealedHops {
  if (bytes.length !== 32 * SEALED_HOPS.length) throw new CustodyFormatError("BAD_HOP", `stored hops must be ${32 * SEALED_HOPS.length} bytes, got ${bytes.length}`);
  return Object.fromEntries(SEALED_HOPS.map((name, i) => [name, bytes.slice(i * 32, (i + 1) * 32)])) as SealedHops;
}
