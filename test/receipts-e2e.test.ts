import { createHash } from "node:crypto";
import * as ed from "@noble/ed25519";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainOfCustodyV2, receiptStatementBytes } from "@custody/custody";
import { parseEntry } from "@custody/ledger";
import { parseVerifierKey } from "@custody/note";
import { verifyProof } from "../proofs/src/index.js";
import { waitFor } from "./support/processes.js";
import { TestPlatform } from "./support/platform.js";
import { Receiver, type Received } from "./support/receiver.js";

const endpointKey = ed.utils.randomSecretKey();

function receiptFor(req: Received, at = new Date()) {
  const statement = receiptStatementBytes({
    delivery: String(req.headers["x-custody-delivery-id"]),
    event: String(req.headers["webhook-id"]),
    bodySha256: createHash("sha256").update(req.body).digest("hex"),
    receivedAt: at.toISOString(),
  });
  return { statement: Buffer.from(statement).toString("base64"), signature: Buffer.from(ed.sign(statement, endpointKey)).toString("base64") };
}

/** Counter-signed receipts: returned in the 2xx body, or submitted later; an invalid one changes nothing. */
describe("counter-signed receipts", () => {
  const platform = new TestPlatform();
  const receiver = new Receiver();
  let base = "";
  let tenant: Awaited<ReturnType<TestPlatform["tenant"]>>;

  beforeAll(async () => {
    await platform.start();
    base = await receiver.start();
    receiver.respond = (req) => (req.path === "/inline" ? { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ receipt: receiptFor(req) }) } : { status: 204 });
    platform.startPipeline();
    tenant = await platform.tenant();
  });
  afterAll(async () => {
    await platform.stop();
    await receiver.stop();
  });

  const api = async (method: "GET" | "POST", url: string, payload?: unknown) => {
    const res = await platform.api.inject({ method, url, headers: tenant.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() };
  };

  it("records a receipt from the response body and one submitted later, and refuses forgeries", async () => {
    await api("POST", "/api/v2/event-types", { name: "case.completed", description: "done" });
    const receiptPublicKey = Buffer.from(ed.getPublicKey(endpointKey)).toString("base64");
    for (const path of ["inline", "later"]) {
      expect((await api("POST", "/api/v2/webhooks", { url: `${base}/${path}`, subscriptions: ["*"], counterSignedReceipts: true, receiptPublicKey })).status).toBe(201);
    }
    const event = (await api("POST", "/api/v2/events", { type: "case.completed", data: { caseId: "c1" } })).body;
    await waitFor(async () => (await platform.t.db.selectFrom("deliveries").select("status").where("status", "=", "delivered").execute()).length === 2, 30_000, "two deliveries");

    // The inline receipt was verified and recorded by the pipeline.
    await waitFor(async () => (await api("GET", "/api/v2/webhook-receipts")).body.data.length === 1, 10_000, "the inline receipt");
    const inline = (await api("GET", "/api/v2/webhook-receipts")).body.data[0];
    expect(inline).toMatchObject({ source: "response", eventId: event.id });

    const later = receiver.on("/later")[0]!;
    const deliveryId = String(later.headers["x-custody-delivery-id"]);
    const good = receiptFor(later);
    // Forgeries: another key, another body, a flipped signature byte — each refused, nothing written.
    const otherKey = ed.utils.randomSecretKey();
    const statement = Buffer.from(good.statement, "base64");
    const wrongBody = receiptStatementBytes({ ...JSON.parse(statement.toString()), bodySha256: "0".repeat(64) });
    const flipped = Buffer.from(good.signature, "base64");
    flipped[0]! ^= 1;
    for (const bad of [
      { statement: good.statement, signature: Buffer.from(ed.sign(statement, otherKey)).toString("base64") },
      { statement: Buffer.from(wrongBody).toString("base64"), signature: Buffer.from(ed.sign(wrongBody, endpointKey)).toString("base64") },
      { statement: good.statement, signature: flipped.toString("base64") },
    ]) {
      const res = await api("POST", "/api/v2/webhook-receipts", { deliveryId, ...bad });
      expect([res.status, res.body.error.code]).toEqual([422, "RECEIPT_INVALID"]);
    }
    expect((await api("GET", "/api/v2/webhook-receipts")).body.data).toHaveLength(1);

    const accepted = await api("POST", "/api/v2/webhook-receipts", { deliveryId, ...good });
    expect(accepted.status).toBe(201);
    expect((await api("POST", "/api/v2/webhook-receipts", { deliveryId, ...good })).status).toBe(200);
    expect((await api("GET", `/api/v2/webhook-receipts/${accepted.body.id}`)).body).toMatchObject({ deliveryId, source: "api" });

    // Both receipts are receipt hops in the chain-of-custody document.
    await waitFor(
      async () => {
        const res = await platform.proofs.inject({ method: "GET", url: `/api/v2/webhooks/events/${event.id}/chain-of-custody`, headers: tenant.auth });
        const doc = ChainOfCustodyV2.parse(res.json());
        return doc.deliveries.every((d) => d.receipt !== null && d.receipt.leafIndex !== null);
      },
      20_000,
      "receipts in the chain of custody",
    );
    const doc = ChainOfCustodyV2.parse((await platform.proofs.inject({ method: "GET", url: `/api/v2/webhooks/events/${event.id}/chain-of-custody`, headers: tenant.auth })).json());
    for (const d of doc.deliveries) expect(parseEntry(Buffer.from(d.receipt!.entry, "base64"))).toMatchObject({ kind: "receipt", delivery: d.id });
    // The standalone verifier checks both receipt hops with the endpoint's key.
    const keys = ((await platform.proofs.inject({ method: "GET", url: "/api/v2/proofs/keys" })).json().keys as Array<{ vkey: string }>).map((k) => parseVerifierKey(k.vkey));
    for (const req of receiver.requests) {
      const checks = verifyProof({ document: doc, payload: req.body, key: keys, receiptKey: ed.getPublicKey(endpointKey) });
      expect(
        checks.filter((c) => !c.ok),
        JSON.stringify(checks),
      ).toEqual([]);
      expect(checks.at(-1)).toMatchObject({ name: "receipt", ok: true });
    }
  });
});
