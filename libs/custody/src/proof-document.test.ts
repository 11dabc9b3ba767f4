import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toJSONSchema } from "zod";
import * as classic from "./proof-document-classic.fixture.js";
import * as mini from "./proof-document.js";

// The verifier reports the first issue's path and message, and the proof routes serialize what the
// schema returns, so "the same" means the whole safeParse result: success, data (unknown members
// stripped) and every issue.
type Schema = { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: unknown } } };
const outcome = (schema: Schema, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false, issues: r.error!.issues };
};
const pairs: Array<[string, Schema, Schema]> = [
  ["ChainOfCustody", classic.ChainOfCustody, mini.ChainOfCustody],
  ["ChainOfCustodyV2", classic.ChainOfCustodyV2, mini.ChainOfCustodyV2],
  ["DeliveryProof", classic.DeliveryProof, mini.DeliveryProof],
  ["DeliveryProofV2", classic.DeliveryProofV2, mini.DeliveryProofV2],
  ["AttemptProof", classic.AttemptProof, mini.AttemptProof],
  ["AttemptProofV2", classic.AttemptProofV2, mini.AttemptProofV2],
  ["ProvenEntry", classic.ProvenEntry, mini.ProvenEntry],
  ["RemovedField", classic.RemovedField, mini.RemovedField],
];

const h = (c: string) => c.repeat(64);
const proven = (leafIndex: number | null) => ({ entry: "eyJ2IjoxfQ==", leafIndex, inclusion: leafIndex === null ? [] : [h("a"), h("b")] });
const removed = { path: "/email", salt: "AAAAAAAAAAAAAAAAAAAAAA", commitment: h("c") };
const v1 = {
  format: "custody-chain/v1",
  origin: "custody.example/log",
  checkpoint: "custody.example/log\n2\nq83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng=\n\n— custody.example/log AAAA\n",
  event: { id: "evt_1", type: "order.created", ledger: proven(0) },
  recall: null,
  deliveries: [
    {
      id: "dlv_1",
      target: { endpoint: "ep_1" },
      status: "delivered",
      idempotencyKey: "idem",
      replayOf: null,
      redaction: { shape: "thin", removed: [removed] },
      attempts: [
        {
          attempt: 1,
          hops: { ingested: h("1"), redacted: h("2"), prepared: h("3"), signed: h("4") },
          root: h("5"),
          seal: { note: "seal", index: 0, path: [h("6")] },
          headers: { "x-custody-root": h("5") },
          custody: proven(1),
          outcome: proven(null),
        },
      ],
      receipt: null,
    },
  ],
};
const v2 = {
  ...v1,
  format: "custody-chain/v2",
  deliveries: [
    {
      ...v1.deliveries[0]!,
      target: { callback: true },
      replay: null,
      attempts: [{ attempt: 1, record: "e30=", seal: { note: "seal", index: 3, path: [h("7")], entry: proven(2) }, headers: {}, outcome: { record: "e30=", index: 0, path: [], entry: proven(null) } }],
    },
  ],
};

/** Every path to a member or element of `value`, the root included. */
function paths(value: unknown, at: PropertyKey[] = []): PropertyKey[][] {
  const out: PropertyKey[][] = [at];
  if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, Array.isArray(value) ? Number(k) : k]));
  return out;
}

function replaced(doc: unknown, path: PropertyKey[], next: unknown): unknown {
  if (path.length === 0) return next;
  const copy = structuredClone(doc) as Record<PropertyKey, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<PropertyKey, unknown>;
  if (next === DELETE) delete node[path.at(-1)!];
  else node[path.at(-1)!] = next;
  return copy;
}

const DELETE = Symbol("delete");
const BAD: unknown[] = [
  DELETE,
  null,
  undefined,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Infinity,
  "",
  "x",
  h("A"),
  h("g"),
  "=",
  "a".repeat(300),
  "a".repeat(20_000),
  [],
  [h("a")],
  Array(13).fill(h("0")),
  Array(65).fill(h("0")),
  {},
  { extra: 1 },
  "custody-chain/v3",
  "thin",
  "lost",
  { callback: false },
  { endpoint: 1 },
];

describe("chain-of-custody schemas in zod/mini", () => {
  it.each([
    ["v1", v1, classic.ChainOfCustody, mini.ChainOfCustody],
    ["v2", v2, classic.ChainOfCustodyV2, mini.ChainOfCustodyV2],
  ] as const)("accept, reject and report as the classic ones for every one-member change of a %s document", (_, doc, before, after) => {
    expect(outcome(after, doc)).toMatchObject({ ok: true });
    let rejected = 0;
    for (const path of paths(doc)) {
      for (const bad of BAD) {
        const changed = replaced(doc, path, bad);
        const expected = outcome(before, changed);
        if (!expected.ok) rejected++;
        expect(outcome(after, changed), `${path.join(".")} = ${String(bad).slice(0, 20)}`).toEqual(expected);
      }
    }
    expect(rejected).toBeGreaterThan(500);
  });

  it.each(pairs)("%s agrees with the classic schema on arbitrary values", (_, before, after) => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (value) => {
        expect(outcome(after, value)).toEqual(outcome(before, value));
      }),
      { numRuns: 300 },
    );
  });

  it.each(pairs)("%s describes itself to OpenAPI as the classic schema did", (_, before, after) => {
    expect(toJSONSchema(after as never)).toEqual(toJSONSchema(before as never));
  });

  it("strips unknown members as classic zod's objects do", () => {
    const parsed = mini.ChainOfCustody.parse({ ...v1, extra: 1, event: { ...v1.event, extra: 2 } });
    expect(parsed).not.toHaveProperty("extra");
    expect(parsed.event).not.toHaveProperty("extra");
  });

  it("names what is wrong in English, as the verifier shows it", () => {
    const r = mini.ChainOfCustody.safeParse({ ...v1, origin: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ["origin"], message: "Invalid input: expected string, received number" });
  });
});
