import type { Db } from "@custody/db";
import { activePlatformSigner } from "@custody/keys";
import type { Signer } from "@custody/note";

// Reading and decrypting the key for every batch would be wasted work; a rotation is picked up within a minute.
const SIGNER_TTL_MS = 60_000;

/** The active platform signing key, read from Postgres at most once a minute. */
export function cachedPlatformSigner(db: Db, masterKey: Uint8Array, origin: string): () => Promise<Signer> {
  let cached: { signer: Signer; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > SIGNER_TTL_MS) {
      cached = { signer: await activePlatformSigner(db, masterKey, origin), at: Date.now() };
    }
    return cached.signer;
  };
}
