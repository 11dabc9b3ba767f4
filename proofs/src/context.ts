/**
 * What the checks of one verification share: the document's common members, the verifier keys,
 * and the facts earlier checks established (the verified checkpoint, the event entry's leaf hash,
 * tenant and payload hash). A fact is absent when the check that establishes it failed; the checks
 * that need it then fail too, saying why.
 */
import type { Checkpoint, VerifierKey } from "@custody/note";
import type { DocumentCore } from "./document.js";
import { expectMember, str } from "./entries.js";
import { openSealNote, type OpenedNote } from "./notes.js";

export interface Context {
  readonly doc: DocumentCore;
  readonly keys: readonly VerifierKey[];
  checkpoint?: Checkpoint;
  eventLeaf?: Uint8Array;
  eventTenant?: string;
  payloadSha256?: string;
  /** seal notes verified so far, by note text (a batch's attempts share one note) */
  readonly seals: Map<string, OpenedNote | Error>;
}

export function newContext(doc: DocumentCore, keys: readonly VerifierKey[]): Context {
  return { doc, keys, seals: new Map() };
}

export function keyList(key: VerifierKey | readonly VerifierKey[]): readonly VerifierKey[] {
  return (Array.isArray(key) ? key : [key]) as readonly VerifierKey[];
}

/** The seal note of an attempt, verified with the document's keys (cached per note text). */
export function sealNote(ctx: Context, note: string): OpenedNote {
  return openSealNote(ctx.seals, ctx.keys, ctx.doc.origin, note);
}

/**
 * Every per-attempt entry or record names the event entry's tenant. When the event entry could not
 * be read (the event check failed), only the member's type is checked here.
 */
export function expectTenant(ctx: Context, record: Readonly<Record<string, unknown>>, what: string): void {
  if (ctx.eventTenant !== undefined) expectMember(record, "tenant", ctx.eventTenant, what);
  else str(record, "tenant", what);
}
