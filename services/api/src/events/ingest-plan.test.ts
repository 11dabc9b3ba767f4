import { describe, expect, it } from "vitest";
import { AppError } from "@custody/errors";
import { DataSchemaValidators } from "../data-schema/validators.js";
import { prepareEvent, type PreparedEvent } from "./validate.js";
import { planIngest, type PlanFacts, type PlanItem } from "./ingest-plan.js";
import type { NewEventBody } from "./schemas.js";
import type { IngestEventType } from "../event-types/store.js";
import type { StoredEvent } from "./ingest-store.js";

const NOW = new Date("2026-01-01T00:00:00.000Z");
let counter = 0;

function item(body: NewEventBody, index = 0): PlanItem {
  const prefix = `body.events.${index}`;
  return { prefix, event: prepareEvent(body, { maxJsonDepth: 8, now: NOW, newId: () => `evt_${++counter}`, prefix }) };
}

const types = new Map<string, IngestEventType>([
  ["case.completed", { id: "ety_a", name: "case.completed", dataSchema: null, archived: false, personalDataFields: ["/subject/name"] }],
  ["case.failed", { id: "ety_b", name: "case.failed", dataSchema: { type: "object", required: ["reason"] }, archived: false, personalDataFields: [] }],
  ["case.old", { id: "ety_c", name: "case.old", dataSchema: null, archived: true, personalDataFields: [] }],
]);

function facts(overrides: Partial<PlanFacts> = {}): PlanFacts {
  return { stored: new Map(), eventTypes: types, existingIds: new Set(), targets: new Map(), ...overrides };
}

function storedFrom(e: PreparedEvent): StoredEvent {
  return { id: e.id, type: e.type, requestHash: e.requestHash, occurredAt: e.occurredAt, entryId: "ent_stored", leafHash: Buffer.alloc(32, 1) };
}

const codes = (ds: ReturnType<typeof planIngest>) => ds.map((d) => (d.kind === "fail" ? d.error.code : d.kind));

describe("planIngest", () => {
  it("accepts a valid event with its type version and its personal-data fields", () => {
    const [d] = planIngest([item({ type: "case.completed", data: {} })], facts(), new DataSchemaValidators());
    expect(d).toMatchObject({ kind: "accept", event: { eventTypeId: "ety_a", personalDataFields: ["/subject/name"], callbackTarget: null } });
  });

  it("checks type, archive, schema and supersedes", () => {
    const items = [
      item({ type: "case.unknown", data: {} }, 0),
      item({ type: "case.old", data: {} }, 1),
      item({ type: "case.failed", data: {} }, 2),
      item({ type: "case.failed", data: { reason: "x" } }, 3),
      item({ type: "case.completed", data: {}, supersedes: "nope" }, 4),
      item({ type: "case.completed", data: {}, supersedes: "there" }, 5),
    ];
    const decisions = planIngest(items, facts({ existingIds: new Set(["there"]) }), new DataSchemaValidators());
    expect(codes(decisions)).toEqual(["EVENT_TYPE_UNKNOWN", "EVENT_TYPE_ARCHIVED", "DATA_SCHEMA_MISMATCH", "accept", "VALIDATION_FAILED", "accept"]);
    expect(decisions[4]).toMatchObject({ error: { field: "body.events.4.supersedes", status: 422 } });
  });

  it("replays a stored event sent again, and refuses its id for a different one — before any other check", () => {
    const original = item({ id: "ord-1", type: "case.old", data: { n: 1 } });
    const stored = new Map([["ord-1", storedFrom(original.event as PreparedEvent)]]);
    // The type was archived since: the retry still gets its original answer.
    const decisions = planIngest([item({ id: "ord-1", type: "case.old", data: { n: 1 } }), item({ id: "ord-1", type: "case.old", data: { n: 2 } }, 1)], facts({ stored }), new DataSchemaValidators());
    expect(decisions[0]).toMatchObject({ kind: "replay", receipt: { id: "ord-1", entryId: "ent_stored", leafHash: "01".repeat(32), ledger: { leafIndex: null } } });
    // The second item repeats an id used earlier in the batch with different content.
    expect(decisions[1]).toMatchObject({ kind: "fail", error: { code: "EVENT_ID_CONFLICT", status: 409, field: "body.events.1.id" } });
  });

  it("gives an id to the first item of a batch that uses it", () => {
    const items = [
      item({ id: "dup", type: "case.completed", data: { a: 1 } }, 0),
      item({ id: "dup", type: "case.completed", data: { a: 1 } }, 1),
      item({ id: "dup", type: "case.completed", data: { a: 2 } }, 2),
      item({ id: "bad", type: "case.unknown", data: {} }, 3),
      item({ id: "bad", type: "case.unknown", data: {} }, 4),
      item({ type: "case.completed", data: {}, supersedes: "dup" }, 5),
    ];
    const decisions = planIngest(items, facts(), new DataSchemaValidators());
    expect(codes(decisions)).toEqual(["accept", "repeat", "EVENT_ID_CONFLICT", "EVENT_TYPE_UNKNOWN", "EVENT_TYPE_UNKNOWN", "accept"]);
    expect(decisions[1]).toEqual({ kind: "repeat", of: 0 });
  });

  it("does not let an event supersede itself", () => {
    const decisions = planIngest([item({ id: "self", type: "case.completed", data: {}, supersedes: "self" })], facts(), new DataSchemaValidators());
    expect(codes(decisions)).toEqual(["VALIDATION_FAILED"]);
  });

  it("uses the checked callback target, or its refusal", () => {
    const ok = item({ type: "case.completed", data: {}, callbackUrl: "http://127.0.0.1:9/cb" }, 0);
    const refused = item({ type: "case.completed", data: {}, callbackUrl: "https://10.0.0.1/" }, 1);
    const unchecked = item({ type: "case.completed", data: {}, callbackUrl: "https://x/" }, 2);
    const refusal = new AppError("TARGET_REFUSED", "no", { field: "body.events.1.callbackUrl" });
    const decisions = planIngest(
      [ok, refused, unchecked],
      facts({
        targets: new Map<number, string | AppError>([
          [0, "http://127.0.0.1:9/cb"],
          [1, refusal],
        ]),
      }),
      new DataSchemaValidators(),
    );
    expect(decisions[0]).toMatchObject({ kind: "accept", event: { callbackTarget: "http://127.0.0.1:9/cb" } });
    expect(decisions[1]).toEqual({ kind: "fail", error: refusal });
    expect(codes(decisions)[2]).toBe("TARGET_REFUSED");
  });

  it("passes failures of the pure stage through", () => {
    const error = new AppError("JSON_TOO_DEEP", "deep", { field: "body.events.0.data" });
    expect(planIngest([{ prefix: "body.events.0", event: error }], facts(), new DataSchemaValidators())).toEqual([{ kind: "fail", error }]);
  });
});
