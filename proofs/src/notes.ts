/**
 * Signed notes in checkpoint form (proofs/FORMAT.md §2, §8): the ledger checkpoint and the seal
 * notes. A note counts only if a given verifier key NAMED BY THE LOG ORIGIN signed it; a key of
 * another name proves nothing about this log.
 */
import { toHex, encodeBase64 } from "@custody/encoding";
import { parseCheckpoint, parseNote, verifyNote, type Checkpoint, type NoteInput, type VerifierKey } from "@custody/note";
import { fail, reason } from "./entries.js";

export interface OpenedNote {
  readonly cp: Checkpoint;
  /** hex key ids of the given keys that signed it */
  readonly keyIds: readonly string[];
  /** base64(key id || signature) of those signature lines, as x-custody-seal's `sig` carries them */
  readonly signatures: readonly string[];
}

/** base64(key id || signature): a signature line's blob, as x-custody-seal's `sig` carries it. */
export function signatureBlob(s: { keyId: Uint8Array; signature: Uint8Array }): string {
  const blob = new Uint8Array(s.keyId.length + s.signature.length);
  blob.set(s.keyId, 0);
  blob.set(s.signature, s.keyId.length);
  return encodeBase64(blob);
}

/**
 * Verifies a note in checkpoint form with the given keys named `signer`, then parses it and checks
 * its origin line. Throws (CheckFailure) with `what` in the message.
 */
export function openNote(note: NoteInput, keys: readonly VerifierKey[], signer: string, origin: string, what: string): OpenedNote {
  const named = keys.filter((k) => k.name === signer);
  if (named.length === 0) {
    const names = [...new Set(keys.map((k) => k.name))].join(", ") || "none";
    fail(`${what}: no verifier key named ${signer} was given (given: ${names})`);
  }
  let text: string;
  try {
    text = verifyNote(note, named).text;
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  if (cp.origin !== origin) fail(`${what}: origin is ${JSON.stringify(cp.origin)}, expected ${JSON.stringify(origin)}`);
  // verifyNote rejects the note if any line of a given key fails, so every such line verified.
  const lines = parseNote(note).signatures.filter((s) => s.name === signer && named.some((k) => toHex(k.keyId) === toHex(s.keyId)));
  return { cp, keyIds: [...new Set(lines.map((s) => toHex(s.keyId)))], signatures: lines.map(signatureBlob) };
}

/** A seal note (origin `<origin>/seal`, signed by the key named `<origin>`), verified once per document. */
export function openSealNote(cache: Map<string, OpenedNote | Error>, keys: readonly VerifierKey[], origin: string, note: string): OpenedNote {
  let opened = cache.get(note);
  if (opened === undefined) {
    try {
      opened = openNote(note, keys, origin, `${origin}/seal`, "seal note");
    } catch (err) {
      opened = err instanceof Error ? err : new Error(String(err));
    }
    cache.set(note, opened);
  }
  if (opened instanceof Error) throw opened;
  return opened;
}
