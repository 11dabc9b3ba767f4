import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainOfCustodyV2, custodyRoot, hopsFromHex, parseCustodyRecord, parseOutcomeRecord } from "@custody/custody";
import { parseEntry, parseEntryOf } from "@custody/ledger";
import { leafHash, verifyConsistency, verifyInclusion } from "@custody/merkle";
import { fromHex } from "@custody/encoding";
import { openCheckpoint, openTlogProof, parseVerifierKey } from "@custody/note";
import { verifyProof } from "../proofs/src/index.js";
import { waitFor } from "./support/processes.js";
import { ORIGIN, TestPlatform } from "./support/platform.js";
import { Receiver } from "./support/receiver.js";

/**
 * The proof service against a live pipeline: ledger proofs verify against its signed checkpoints,
 * chain-of-custody documents tie what receivers got to the ledger, and recall and replay do what
 * they promise.
 */
describe("proof service, recall and replay", () => {
  const platform = new TestPlatform();
  const receiver = new Receiver();
  let base = "";
  let tenant: Awaited<ReturnType<TestPlatform["tenant"]>>;
  let other: Awaited<ReturnType<TestPlatform["tenant"]>>;
  let endpointId = "";
  let endpointSecret = "";
  const events: string[] = [];

  const call = async (app: "api" | "proofs", method: "GET" | "POST" | "PATCH", url: string, payload?: unknown, auth = tenant.auth) => {
    const res = await platform[app].inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: String(res.headers["content-type"] ?? "").includes("json") ? res.json() : res.body, headers: res.headers };
  };
  const ok = async (...args: Parameters<typeof call>) => {
    const res = await call(...args);
    if (res.status >= 300) throw new Error(`${args[1]} ${args[2]}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const headSize = async () => Number((await platform.t.db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow()).checkpoint_size);
  const entryCount = async () =>
    Number(
      (
        await platform.t.db
          .selectFrom("ledger_entries")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** Call once the receiver has seen what it should: waits for the records and the checkpoint to catch up. */
  const settled = async () => {
    await waitFor(async () => (await platform.t.db.selectFrom("deliveries").select("status").where("status", "in", ["pending", "delivering", "retrying"]).execute()).length === 0, 30_000, "deliveries to settle");
    await waitFor(async () => (await headSize()) === (await entryCount()), 30_000, "a checkpoint covering everything");
  };

  beforeAll(async () => {
    await platform.start();
    base = await receiver.start();
    platform.startPipeline();
    tenant = await platform.tenant("Acme");
    other = await platform.tenant("Other");
    await ok("api", "POST", "/api/v2/event-types", { name: "identity.registration.final", description: "registered", personalDataFields: ["/email"] });
    const endpoint = await ok("api", "POST", "/api/v2/webhooks", { url: `${base}/hook`, subscriptions: ["*.final", "*.recalled"] });
    endpointId = endpoint.id;
    endpointSecret = endpoint.secret;
    for (let i = 0; i < 3; i++) events.push((await ok("api", "POST", "/api/v2/events", { type: "identity.registration.final", data: { email: `u${i}@example.com`, n: i } })).id);
    await waitFor(async () => receiver.requests.length >= 3, 30_000, "the first deliveries");
    await settled();
  });
  afterAll(async () => {
    await platform.stop();
    await receiver.stop();
  });

  it("serves checkpoints, keys and proofs that verify", async () => {
    const keys = (await ok("proofs", "GET", "/api/v2/proofs/keys", undefined, {})).keys;
    expect(keys).toHaveLength(1);
    const key = parseVerifierKey(keys[0].vkey);
    const note = (await call("proofs", "GET", "/api/v2/proofs/checkpoint", undefined, {})).body as string;
    const cp = openCheckpoint(note, key, ORIGIN);
    expect(cp.size).toBe(await entryCount());

    const entry = await ok("proofs", "GET", "/api/v2/proofs/entries/0");
    const byIndex = await ok("proofs", "GET", `/api/v2/proofs/inclusion?leafIndex=0&treeSize=${cp.size}`, undefined, {});
    const byHash = await ok("proofs", "GET", `/api/v2/proofs/inclusion?leafHash=${entry.leafHash}`, undefined, {});
    expect(byHash).toEqual(byIndex);
    verifyInclusion(leafHash(Buffer.from(entry.entry, "base64")), 0, cp.size, byIndex.proof.map(fromHex), cp.rootHash);

    const older = Math.max(1, cp.size - 5);
    const olderRoot = (await platform.t.db.selectFrom("ledger_checkpoints").select("root_hash").where("tree_size", "=", String(older)).executeTakeFirst())?.root_hash;
    const consistency = await ok("proofs", "GET", `/api/v2/proofs/consistency?first=${older}&second=${cp.size}`, undefined, {});
    if (olderRoot) verifyConsistency(older, cp.size, consistency.proof.map(fromHex), new Uint8Array(olderRoot), cp.rootHash);
    expect(consistency.proof.length).toBeGreaterThan(0);

    const bundle = (await call("proofs", "GET", "/api/v2/proofs/entries/0/tlog-proof")).body as string;
    const opened = openTlogProof(bundle, key, ORIGIN);
    verifyInclusion(leafHash(Buffer.from(entry.entry, "base64")), opened.index, opened.checkpoint.size, [...opened.proof], opened.checkpoint.rootHash);

    // Entries and bundles are the tenant's; hashes are public.
    expect((await call("proofs", "GET", "/api/v2/proofs/entries/0", undefined, other.auth)).status).toBe(404);
    expect((await call("proofs", "GET", "/api/v2/proofs/entries/0/tlog-proof", undefined, other.auth)).status).toBe(404);
    expect((await call("proofs", "GET", "/api/v2/proofs/entries/0", undefined, {})).status).toBe(401);
    expect((await call("proofs", "GET", `/api/v2/proofs/consistency?first=0&second=${cp.size}`, undefined, {})).status).toBe(400);
    expect((await call("proofs", "GET", `/api/v2/proofs/inclusion?leafIndex=0&treeSize=${cp.size + 1000}`, undefined, {})).status).toBe(404);
  });

  it("hands out a chain-of-custody document that ties the delivered bytes to the ledger", async () => {
    const key = parseVerifierKey((await ok("proofs", "GET", "/api/v2/proofs/keys", undefined, {})).keys[0].vkey);
    const doc = ChainOfCustodyV2.parse(await ok("proofs", "GET", `/api/v2/webhooks/events/${events[0]}/chain-of-custody`));
    const cp = openCheckpoint(doc.checkpoint, key, ORIGIN);
    const eventBytes = Buffer.from(doc.event.ledger.entry, "base64");
    expect(parseEntry(eventBytes)).toMatchObject({ kind: "event", event: events[0] });
    verifyInclusion(leafHash(eventBytes), doc.event.ledger.leafIndex!, cp.size, doc.event.ledger.inclusion.map(fromHex), cp.rootHash);
    expect(doc.deliveries).toHaveLength(1);
    const [attempt] = doc.deliveries[0]!.attempts;
    const received = receiver.requests.find((r) => r.headers["webhook-id"] === events[0])!;
    // The record the receiver got in x-custody-record is the one the document shows, and it is in the ledger.
    expect(attempt!.record).toBe(received.headers["x-custody-record"]);
    const record = parseCustodyRecord(Buffer.from(attempt!.record, "base64"));
    expect(custodyRoot(hopsFromHex(record.hops))).toEqual(fromHex(record.root));
    expect(record.hops.ingested).toBe(Buffer.from(leafHash(eventBytes)).toString("hex"));
    expect(doc.deliveries[0]!.redaction.removed.map((r) => r.path)).toEqual(["/email"]);
    for (const proven of [attempt!.seal.entry, attempt!.outcome!.entry]) {
      const bytes = Buffer.from(proven.entry, "base64");
      verifyInclusion(leafHash(bytes), proven.leafIndex!, cp.size, proven.inclusion.map(fromHex), cp.rootHash);
    }
    expect(parseEntry(Buffer.from(attempt!.seal.entry.entry, "base64"))).toMatchObject({ kind: "seal", v: 2 });
    const outcome = parseOutcomeRecord(Buffer.from(attempt!.outcome!.record, "base64"));
    expect(outcome).toMatchObject({ outcome: "delivered", delivery: doc.deliveries[0]!.id, attempt: 1, root: record.root });
    const outcomes = parseEntryOf(Buffer.from(attempt!.outcome!.entry.entry, "base64"), "outcomes");
    verifyInclusion(leafHash(Buffer.from(attempt!.outcome!.record, "base64")), attempt!.outcome!.index, outcomes.size, attempt!.outcome!.path.map(fromHex), fromHex(outcomes.batchRoot));

    expect((await call("proofs", "GET", `/api/v2/webhooks/events/${events[0]}/chain-of-custody`, undefined, other.auth)).status).toBe(404);
  });

  it("recalls an event once, and notifies the endpoint that received it", async () => {
    const first = await ok("proofs", "POST", `/api/v2/webhooks/events/${events[1]}/recall`, { reason: "sent to the wrong customer" });
    expect(first).toMatchObject({ eventId: events[1], alreadyRecalled: false });
    expect(first.noticeEventId).toMatch(/^evt_/);
    const again = await ok("proofs", "POST", `/api/v2/webhooks/events/${events[1]}/recall`, { reason: "again" });
    expect(again).toMatchObject({ alreadyRecalled: true, entryId: first.entryId, reason: "sent to the wrong customer" });
    await waitFor(async () => receiver.requests.some((r) => r.headers["webhook-id"] === first.noticeEventId), 20_000, "the recall notice");
    const notice = receiver.requests.find((r) => r.headers["webhook-id"] === first.noticeEventId)!;
    expect(JSON.parse(notice.body.toString())).toMatchObject({ type: "identity.registration.recalled", supersedes: events[1], data: { recalledEvent: events[1] } });
    expect((await call("proofs", "POST", `/api/v2/webhooks/events/${events[1]}/recall`, { reason: "x" }, other.auth)).status).toBe(404);
    await settled();
    const doc = ChainOfCustodyV2.parse(await ok("proofs", "GET", `/api/v2/webhooks/events/${events[1]}/chain-of-custody`));
    expect(parseEntry(Buffer.from(doc.recall!.entry, "base64"))).toMatchObject({ kind: "recall", event: events[1] });
  });

  it("replays a range as new deliveries with the same webhook-id and a new Idempotency-Key", async () => {
    // A retraction of the recalled event, sent after the recall, stops too, now and in a replay. It is
    // committed with another event: once that one arrives, dispatch has handled both.
    const batch = await ok("api", "POST", "/api/v2/events/batch", {
      events: [
        { type: "identity.registration.final", supersedes: events[1], data: { email: "r@example.com", n: 9 } },
        { type: "identity.registration.final", data: { email: "c@example.com", n: 10 } },
      ],
    });
    const [retraction, committedWith] = (batch.results as Array<{ event: { id: string } }>).map((r) => r.event.id);
    await waitFor(async () => receiver.requests.some((r) => r.headers["webhook-id"] === committedWith), 20_000, "the event committed with the retraction");
    expect(await platform.t.db.selectFrom("deliveries").select("id").where("event_id", "=", retraction!).execute()).toEqual([]);
    await settled();
    const before = receiver.requests.length;
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const replay = await call("proofs", "POST", `/api/v2/webhooks/${endpointId}/replays`, { from, to });
    expect(replay.status).toBe(202);
    // Recalled events, their retractions and platform notices are not replayed.
    expect(replay.body.eventCount).toBe(3);
    await waitFor(async () => receiver.requests.length >= before + 3, 20_000, "replayed deliveries");
    const replayed = receiver.requests.slice(before);
    for (const r of replayed) {
      const original = receiver.requests.find((o) => o.headers["webhook-id"] === r.headers["webhook-id"])!;
      expect(original).not.toBe(r);
      expect(r.headers["idempotency-key"]).not.toBe(original.headers["idempotency-key"]);
      expect(r.headers["x-custody-record"]).not.toBe(original.headers["x-custody-record"]);
    }
    await settled();
    const progress = await ok("proofs", "GET", `/api/v2/webhooks/${endpointId}/replays/${replay.body.id}`);
    expect(progress.progress.delivered).toBe(3);
    // The document names the delivery a replay re-sent, and the replay job that made it (FORMAT.md §13).
    const doc = ChainOfCustodyV2.parse(await ok("proofs", "GET", `/api/v2/webhooks/events/${events[0]}/chain-of-custody`));
    const [original, again] = doc.deliveries;
    expect(original).toMatchObject({ replayOf: null, replay: null });
    expect(again).toMatchObject({ replayOf: original!.id, replay: replay.body.id, target: original!.target });
    expect((await call("proofs", "GET", `/api/v2/webhooks/${endpointId}/replays/${replay.body.id}`, undefined, other.auth)).status).toBe(404);
    expect((await call("proofs", "POST", `/api/v2/webhooks/${endpointId}/replays`, { from: to, to: from })).status).toBe(400);
  });

  it("the standalone verifier accepts every real delivery against its live chain-of-custody document", async () => {
    await settled();
    const keys = (await ok("proofs", "GET", "/api/v2/proofs/keys", undefined, {})).keys.map((k: { vkey: string }) => parseVerifierKey(k.vkey));
    const byEvent = new Map<string, typeof receiver.requests>();
    for (const r of receiver.requests) byEvent.set(String(r.headers["webhook-id"]), [...(byEvent.get(String(r.headers["webhook-id"])) ?? []), r]);
    // Thin deliveries, a recalled event, its recall notice, the event committed with the retraction
    // (which got none), and replayed deliveries are all here.
    expect(byEvent.size).toBe(5);
    for (const [eventId, requests] of byEvent) {
      const document = await ok("proofs", "GET", `/api/v2/webhooks/events/${eventId}/chain-of-custody`);
      for (const r of requests) {
        const checks = verifyProof({ document, payload: r.body, key: keys, secret: endpointSecret });
        expect(
          checks.filter((c) => !c.ok),
          `${eventId}: ${JSON.stringify(checks)}`,
        ).toEqual([]);
        expect(checks.map((c) => c.name)).toEqual(["checkpoint", "event", "prepared", "ingested", "signed", "root", "custody record", "seal", "chain", "outcome", "hmac"]);
      }
      const tampered = Buffer.from(requests[0]!.body);
      tampered[tampered.length - 2]! ^= 1;
      expect(verifyProof({ document, payload: tampered, key: keys }).find((c) => !c.ok)?.name).toBe("prepared");
    }
  });
});
