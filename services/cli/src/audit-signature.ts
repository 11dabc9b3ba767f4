import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { SignatureAccepts } from "@custody/ledger";

// RFC 8410 SubjectPublicKeyInfo of an Ed25519 key: this prefix, then the 32 key bytes.
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Ed25519 verification with node:crypto (OpenSSL), ~15 times faster than the portable check, for the
 * audit's one signature per checkpoint. The platform's check (libs/crypto verifyEd25519) is strict RFC
 * 8032 with the cofactorless equation: S < L, R and A canonical, A not of small order, [S]B = R + [k]A.
 * OpenSSL requires S < L and that R's bytes be the canonical encoding of [S]B − [k]A — the same
 * condition, for the keys the audit uses, which are valid platform keys (canonical, not of small
 * order). The audit takes only its "yes" (a "no" goes to verifyNote, whose verdict and message stand),
 * so even a difference could not make it accept what the platform's check refuses.
 * (test/audit-signature.test.ts: corrupted signatures, non-canonical R, S + L, small-order components.)
 */
export function nativeSignatureAccepts(): SignatureAccepts {
  const keys = new Map<string, KeyObject | null>();
  return (signature, message, publicKey) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const id = Buffer.from(publicKey).toString("hex");
    let key = keys.get(id);
    if (key === undefined) {
      try {
        key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" });
      } catch {
        key = null;
      }
      keys.set(id, key);
    }
    if (key === null) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}
