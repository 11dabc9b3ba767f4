import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventContent, EventMessage, encodeEventContent } from "@custody/bus";
import { newId } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { insertPreparedEvents, type PreparedEventRow } from "@custody/events";
import { canonicalJson } from "@custody/redact";
import { createTenant } from "@custody/tenancy";
import { eventsOfMessages, loadEvents, OFFERED_CONTENT_FRESH_MS, type LoadedEvent } from "./events.js";

let t: TestDatabase;
let tenantId: string;
let typeId: string;
const PERSONAL = ["/subject/name", "/subject/e-mail"];

beforeAll(async () => {
  t = await createTestDatabase("dispatch_events");
  tenantId = (await createTenant(t.db, "Acme")).tenantId;
  typeId = newId("ety");
  await t.db.insertInto("event_types").values({ id: typeId, tenant_id: tenantId, name: "case.closed", version: 1, data_schema: null, personal_data_fields: PERSONAL, archived_at: null }).execute();
});

afterAll(() => t?.drop());

function row(id: string, over: Partial<PreparedEventRow> & { data: unknown; meta?: unknown }): PreparedEventRow {
  const payload = Buffer.from(canonicalJson(over.data as never), "utf8");
  return {
    tenantId,
    id,
    type: "case.closed",
    eventTypeId: typeId,
    payload,
    payloadSha256: createHash("sha256").update(payload).digest(),
    occurredAt: new Date("2026-12-04T10:11:12.345Z"),
    supersedes: null,
    metadata: over.meta === undefined ? null : canonicalJson(over.meta as never),
    callbackUrl: null,
    requestHash: createHash("sha256").update(id).digest(),
    ...over,
  };
}

/** Byte strings as plain arrays: loadEvents and the decoder give different views of equal bytes. */
const plain = (e: LoadedEvent | undefined) => e && { ...e, payload: e.payload && [...e.payload], ingested: [...e.ingested] };

const NOW = 1_800_000_000_000;
/** A message as the stream hands it over, stored `ageMs` before NOW. */
const received = (data: EventMessage, ageMs = 0) => ({ data, deliveryCount: 1, storedAtMs: NOW - ageMs });

describe("the events of a dispatch batch", () => {
  it("are the same whether offered with their content or read back from Postgres", async () => {
    const rows = [
      row("evt_plain", { data: { subject: { name: "Zoë", "e-mail": "z@example.com" }, amount: 12.5, big: 1e21, tiny: 5e-7 } }),
      row("evt_rich", {
        data: { "\u20ac": ["é", "\ud83d\ude00", { b: 1, a: null }], "": true },
        meta: { z: [1, 2.25], a: { é: "x", e: "y" }, n: -0 },
        supersedes: "evt_plain",
        callbackUrl: "https://hooks.example.com/cb?x=1",
      }),
      row("evt_empty", { data: {}, eventTypeId: null }),
      // A time ingest accepts (a number of milliseconds) that an ISO string would write with a six-digit year.
      row("evt_far", { data: { n: 1 }, occurredAt: new Date(1e15) }),
    ];
    const stored = await insertPreparedEvents(t.db, rows);
    const types = new Map([[typeId, PERSONAL]]);
    const offered: EventMessage[] = rows.map((r, i) => ({
      tenantId,
      eventId: r.id,
      entryId: stored[i]!.entryId,
      // As the API offers it (services/api announce.ts `offerOf`), through the wire's JSON and schema.
      content: EventContent.parse(
        JSON.parse(
          JSON.stringify(
            encodeEventContent({
              type: r.type,
              occurredAt: r.occurredAt,
              supersedes: r.supersedes,
              metadata: r.metadata,
              payload: r.payload,
              callbackUrl: r.callbackUrl,
              leafHash: stored[i]!.leafHash,
              personalDataFields: types.get(r.eventTypeId ?? "") ?? [],
            }),
          ),
        ),
      ),
    }));

    const read = await loadEvents(t.db, offered);
    const fromOffers = await eventsOfMessages(
      t.db,
      offered.map((m) => received(m)),
      NOW,
    );
    expect(read.size).toBe(4);
    for (const [key, event] of read) expect(plain(fromOffers.get(key))).toEqual(plain(event));
  });

  it("reads back those offered without content, offered too long ago or superseding another event, in the same batch as fresh offers", async () => {
    const stored = await insertPreparedEvents(t.db, [
      row("evt_ids", { data: { n: 1 } }),
      row("evt_fresh", { data: { n: 2 } }),
      row("evt_stale", { data: { n: 3 } }),
      row("evt_retracts", { data: { n: 5 }, supersedes: "evt_ids" }),
    ]);
    const [ids, fresh, stale, retracts] = stored.map((s): EventMessage => ({ tenantId, eventId: s.id, entryId: s.entryId }));
    // Content that differs from the row: shows which source each event came from.
    const differing = {
      type: "case.closed",
      occurredAt: new Date(0),
      supersedes: null,
      metadata: null,
      payload: Buffer.from("{}"),
      callbackUrl: null,
      leafHash: stored[0]!.leafHash,
      personalDataFields: [],
    };
    const bogus = encodeEventContent(differing);
    // Offered as a retraction: whether the event it retracts was recalled is read with the row.
    const bogusRetraction = encodeEventContent({ ...differing, supersedes: "evt_ids" });
    const events = await eventsOfMessages(
      t.db,
      [received(ids!), received({ ...fresh!, content: bogus }, OFFERED_CONTENT_FRESH_MS - 1), received({ ...stale!, content: bogus }, OFFERED_CONTENT_FRESH_MS), received({ ...retracts!, content: bogusRetraction }, 1)],
      NOW,
    );
    const payloadOf = (id: string) => Buffer.from(events.get(`${tenantId}/${id}`)!.payload!).toString();
    expect([payloadOf("evt_ids"), payloadOf("evt_fresh"), payloadOf("evt_stale"), payloadOf("evt_retracts")]).toEqual(['{"n":1}', "{}", '{"n":3}', '{"n":5}']);
  });

  it("keeps a message whose content does not parse, as its ids, for dispatch to read the event back", async () => {
    const [stored] = await insertPreparedEvents(t.db, [row("evt_odd", { data: { n: 4 } })]);
    const message = EventMessage.parse({ tenantId, eventId: stored!.id, entryId: stored!.entryId, content: { type: "case.closed", occurredAtMs: "soon" } });
    expect(message).toEqual({ tenantId, eventId: "evt_odd", entryId: stored!.entryId });
    const events = await eventsOfMessages(t.db, [received(message)], NOW);
    expect(Buffer.from(events.get(`${tenantId}/evt_odd`)!.payload!).toString()).toBe('{"n":4}');
  });
});
