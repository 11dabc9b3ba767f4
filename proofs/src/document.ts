/**
 * Reading a chain-of-custody document (proofs/FORMAT.md §13, Appendix A): its `format` picks the
 * platform's zod schema, which parses the whole document before any check reads it, plus the
 * uniqueness the schema cannot express. A document that names another format is refused as such;
 * one without a format is read as format 1, whose schema then names what is wrong (so format 1
 * documents fail exactly as they always did).
 */
import { ChainOfCustody, ChainOfCustodyV2, type ProvenEntry } from "@custody/custody";
import { reason } from "./entries.js";
import type { Check } from "./report.js";

export const FORMAT_V1 = "custody-chain/v1";
export const FORMAT_V2 = "custody-chain/v2";

export type ParsedDocument = { readonly format: 1; readonly doc: ChainOfCustody } | { readonly format: 2; readonly doc: ChainOfCustodyV2 };

/** The members both formats share, which the checkpoint, event and receipt checks read. */
export interface DocumentCore {
  readonly origin: string;
  readonly checkpoint: string;
  readonly event: { readonly id: string; readonly type: string; readonly ledger: ProvenEntry };
  readonly recall: ProvenEntry | null;
}

/** The document's `format` member, when it is an object that has one. */
function formatOf(document: unknown): unknown {
  if (document === null || typeof document !== "object" || Array.isArray(document) || !Object.hasOwn(document, "format")) return undefined;
  return (document as { format: unknown }).format;
}

/** What the verifier needs of a zod schema (the proofs package does not depend on zod itself). */
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

function parseWith<T>(schema: Schema<T>, document: unknown, name: string): { doc: T } | { failure: Check } {
  const failure = (why: string) => ({ failure: { name: "document", ok: false, detail: `not a valid ${name} document: ${why}` } as const });
  let parsed: ReturnType<Schema<T>["safeParse"]>;
  try {
    parsed = schema.safeParse(document);
  } catch (err) {
    return failure(reason(err));
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return failure(issue === undefined ? "schema mismatch" : `${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`);
  }
  const doc = parsed.data as T & { deliveries: ReadonlyArray<{ id: string; attempts: ReadonlyArray<{ attempt: number }> }> };
  // A repeated delivery id or attempt number would make "this attempt" ambiguous in every message
  // and lets one copy hide behind another.
  const deliveries = new Set<string>();
  for (const d of doc.deliveries) {
    if (deliveries.has(d.id)) return failure(`delivery ${d.id} appears twice`);
    deliveries.add(d.id);
    const attempts = new Set<number>();
    for (const a of d.attempts) {
      if (attempts.has(a.attempt)) return failure(`delivery ${d.id} lists attempt ${a.attempt} twice`);
      attempts.add(a.attempt);
    }
  }
  return { doc };
}

/** Parses the document of either format, or returns the single failed `document` check. */
export function parseDocument(document: unknown): ParsedDocument | { failure: Check } {
  const format = formatOf(document);
  if (typeof format === "string" && format !== FORMAT_V1 && format !== FORMAT_V2) {
    return { failure: { name: "document", ok: false, detail: `the document's format is ${JSON.stringify(format.slice(0, 64))}; this verifier reads ${FORMAT_V1} and ${FORMAT_V2}` } };
  }
  if (format === FORMAT_V2) {
    const parsed = parseWith(ChainOfCustodyV2, document, FORMAT_V2);
    return "failure" in parsed ? parsed : { format: 2, doc: parsed.doc };
  }
  const parsed = parseWith(ChainOfCustody, document, FORMAT_V1);
  return "failure" in parsed ? parsed : { format: 1, doc: parsed.doc };
}
