/**
 * One negative test per error code. The table is typed `Record<NoteErrorCode, …>`, so adding a
 * code to NoteErrorCodes without a way to reach it here is a type error, and the runtime check
 * below catches a table that drifts from the list.
 */
import { describe, expect, it } from "vitest";
import {
  formatCheckpoint,
  MAX_NOTE_SIZE,
  NoteError,
  NoteErrorCodes,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseTlogProof,
  parseVerifierKey,
  signerFromSeed,
  signNote,
  verifierKeyOf,
  verifyNote,
} from "./index.js";
import type { NoteErrorCode } from "./index.js";

const log = signerFromSeed("custody.example/log", new Uint8Array(32).fill(5));
const logV = verifierKeyOf(log);
const cpNote = signNote(formatCheckpoint({ origin: "custody.example/log", size: 3, rootHash: new Uint8Array(32) }), [log]);

const triggers: Record<NoteErrorCode, () => unknown> = {
  MALFORMED_NOTE: () => parseNote("text without a signature block\n"),
  NOTE_TOO_LARGE: () => parseNote("x".repeat(MAX_NOTE_SIZE + 1)),
  BAD_SIGNATURE_LINE: () => parseNote("text\n\n- custody.example/log AAAAAAA=\n"),
  SIGNATURE_INVALID: () => verifyNote(cpNote.replace("\n3\n", "\n4\n"), [logV]),
  NO_VERIFIED_SIGNATURE: () => verifyNote(cpNote, [verifierKeyOf(signerFromSeed("someone.else", new Uint8Array(32)))]),
  MALFORMED_CHECKPOINT: () => parseCheckpoint("custody.example/log\n03\nAAAA\n"),
  ORIGIN_MISMATCH: () => openCheckpoint(cpNote, logV, "custody.example/another-log"),
  BAD_VKEY: () => parseVerifierKey("custody.example/log+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
  BAD_SIGNER_KEY: () => parseSignerKey("PRIVATE+KEY+custody.example/log+00000000+AQ=="),
  MALFORMED_TLOG_PROOF: () => parseTlogProof(`c2sp.org/tlog-proof@v1\nindex 007\n\n${cpNote}`),
};

describe("NoteError", () => {
  it("the trigger table covers exactly the declared codes", () => {
    expect(Object.keys(triggers).sort()).toEqual([...NoteErrorCodes].sort());
  });

  it.each(NoteErrorCodes.map((c) => [c] as const))("%s is thrown as a NoteError with that code", (c) => {
    let caught: unknown;
    try {
      triggers[c]();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NoteError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as NoteError).code).toBe(c);
    expect((caught as NoteError).name).toBe("NoteError");
    expect((caught as NoteError).message.length).toBeGreaterThan(0);
  });
});
