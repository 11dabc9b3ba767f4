import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { batchFromLeafHashes, unpackLeafHashes, verifyDelivery } from "@custody/custody";
import { listPlatformKeys } from "@custody/keys";
import { parseEntry } from "@custody/ledger";
import { toHex } from "@custody/encoding";
import { parseVerifierKey } from "@custody/note";
import { verifyCustodySignature } from "@custody/signing";
import { verifyProof } from "../proofs/src/index.js";
import { runAudit } from "../services/cli/src/audit.js";
import { waitFor } from "./support/processes.js";
import { ORIGIN, TestPlatform } from "./support/platform.js";
import { Receiver } from "./support/receiver.js";

/**
 * The delivery promise end to end: events of several types go in over the API; thin and fat
 * endpoints and a callback URL receive them; every delivery verifies with the standardwebhooks
 * package, with the `sha256=` header and with the custody seal; personal fields reach only the
 * acknowledged fat endpoint; and the ledger that records it all passes the audit.
 */
describe("pipeline end to end", () => {
  const platform = new TestPlatform();
  const receiver = new Receiver();
  let base = "";

  beforeAll(async () => {
    await platform.start();
    base = await receiver.start();
    platform.startPipeline();
  });
  afterAll(async () => {
    await platform.stop();
    await receiver.stop();
  });

  it("delivers signed, redacted, sealed payloads to thin, fat and callback targets", async () => {
    const { auth, tenantId } = await platform.tenant();
    const api = async (method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) => {
      const res = await platform.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    };
    await api("POST", "/api/v2/event-types", { name: "identity.registration.final", description: "a person registered", personalDataFields: ["/email", "/name"] });
    await api("POST", "/api/v2/event-types", { name: "case.completed", description: "a case closed", personalDataFields: ["/result/taxId"] });

    const thin = await api("POST", "/api/v2/webhooks", { url: `${base}/thin`, subscriptions: ["*"] });
    const rotated = await api("POST", `/api/v2/webhooks/${thin.id}/rotate-secret`);
    const fat = await api("POST", "/api/v2/webhooks", { url: `${base}/fat`, subscriptions: ["identity.*"] });
    await api("PATCH", `/api/v2/webhooks/${fat.id}`, {
      defaultPayloadShape: "fat",
      fatEventsAcknowledgment: { fieldsAcknowledged: ["identity.registration.final.email", "identity.registration.final.name"] },
    });
    const callbackSecret = (await api("POST", "/api/v2/callback-secret/rotate")).secret as string;

    const events = [
      { type: "identity.registration.final", data: { email: "ada@example.com", name: "Ada", plan: "pro" } },
      { type: "case.completed", data: { caseId: "case_1", result: { taxId: "12-3456789", signed: true } }, callbackUrl: `${base}/callback` },
      { type: "identity.registration.final", data: { email: "bob@example.com", name: "Bob", plan: "free" }, callbackUrl: `${base}/callback` },
    ];
    const accepted = await api("POST", "/api/v2/events/batch", { events });
    expect(accepted.results.map((r: { status: number }) => r.status)).toEqual([201, 201, 201]);

    // thin: 3 events; fat: the 2 identity events; callback: 2.
    await waitFor(async () => receiver.requests.length >= 7, 30_000, "7 deliveries");
    expect(receiver.on("/thin")).toHaveLength(3);
    expect(receiver.on("/fat")).toHaveLength(2);
    expect(receiver.on("/callback")).toHaveLength(2);

    const keys = (await listPlatformKeys(platform.t.db)).map((k) => parseVerifierKey(k.vkey));
    const secrets: Record<string, { current: string; previous?: string }> = {
      "/thin": { current: rotated.secret, previous: thin.secret },
      "/fat": { current: fat.secret },
      "/callback": { current: callbackSecret },
    };
    for (const req of receiver.requests) {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const secret = secrets[req.path]!;
      // Standard Webhooks, with each valid secret (both during the thin endpoint's rotation overlap).
      new Webhook(secret.current).verify(req.body.toString(), headers);
      if (secret.previous) new Webhook(secret.previous).verify(req.body.toString(), headers);
      // The product doc's receiver code: HMAC keyed with the secret string's bytes.
      verifyCustodySignature(secret.current, req.body, headers["x-custody-signature"]);
      // The platform-signed custody record about these very bytes (FORMAT.md §10).
      const record = verifyDelivery({ body: req.body, headers, keys });
      expect(record).toMatchObject({ event: headers["webhook-id"], delivery: headers["x-custody-delivery-id"], attempt: 1, previous: null });

      const body = JSON.parse(req.body.toString());
      if (req.path === "/fat") {
        expect(body.data.email).toMatch(/@example\.com$/);
        expect(body).toMatchObject({ payloadShape: "fat", redacted: [] });
      } else if (body.type === "identity.registration.final") {
        expect(body.data).not.toHaveProperty("email");
        expect(body.data).not.toHaveProperty("name");
        expect(body).toMatchObject({ payloadShape: "thin", redacted: ["/email", "/name"] });
      } else {
        expect(body.data.result).toEqual({ signed: true });
        expect(body.redacted).toEqual(["/result/taxId"]);
      }
      expect(headers["webhook-id"]).toBe(body.id);
      expect(headers["x-custody-event"]).toBe(body.type);
    }

    // Postgres agrees with what the receivers hold, and every attempt is in the ledger.
    await waitFor(
      async () => (await platform.t.db.selectFrom("deliveries").select("status").where("tenant_id", "=", tenantId).execute()).every((d) => d.status === "delivered"),
      20_000,
      "all deliveries recorded as delivered",
    );
    const seals = await platform.t.db.selectFrom("attempt_seals").select(["delivery_id", "hops"]).execute();
    expect(seals.map((x) => x.delivery_id).sort()).toEqual(receiver.requests.map((r) => String(r.headers["x-custody-delivery-id"])).sort());
    // Every outcome is a leaf of an outcomes batch logged in the ledger.
    const outcomes = await platform.t.db
      .selectFrom("attempt_outcomes as o")
      .innerJoin("outcome_batches as b", "b.id", "o.batch_id")
      .innerJoin("ledger_entries as e", "e.id", "b.entry_id")
      .select(["o.outcome", "o.status_code", "o.batch_index", "b.leaves", "e.body"])
      .execute();
    expect(outcomes).toHaveLength(7);
    for (const o of outcomes) {
      expect(o).toMatchObject({ outcome: "delivered", status_code: 200 });
      const batch = batchFromLeafHashes(unpackLeafHashes(o.leaves));
      expect(parseEntry(o.body)).toMatchObject({ kind: "outcomes", v: 2, batchRoot: toHex(batch.root) });
    }
    // Every entry sequenced, checkpointed, and the whole ledger re-derives.
    const total = Number(
      (
        await platform.t.db
          .selectFrom("ledger_entries")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
    await waitFor(async () => Number((await platform.t.db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow()).checkpoint_size) === total, 20_000, "checkpoint");
    const report = await runAudit(platform.t.db, ORIGIN, () => undefined);
    expect(report.findings).toEqual([]);
    // 3 events, then one seal entry per seal batch and one outcomes entry per outcome batch.
    const kinds = (await platform.t.db.selectFrom("ledger_entries").select("kind").execute()).map((e) => e.kind);
    expect(kinds.filter((k) => k === "event")).toHaveLength(3);
    expect(kinds.every((k) => ["event", "seal", "outcomes"].includes(k))).toBe(true);
    expect(report.treeSize).toBe(total);

    // The standalone verifier accepts every delivery (thin, fat, callback) against its live proof.
    for (const req of receiver.requests) {
      const eventId = String(req.headers["webhook-id"]);
      const res = await platform.proofs.inject({ method: "GET", url: `/api/v2/webhooks/events/${eventId}/chain-of-custody`, headers: auth });
      const checks = verifyProof({ document: res.json(), payload: req.body, key: keys, secret: secrets[req.path]!.current });
      expect(
        checks.filter((c) => !c.ok),
        JSON.stringify(checks),
      ).toEqual([]);
    }
  });
});
