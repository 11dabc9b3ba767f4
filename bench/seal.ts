/**
 * Sealing benchmark: the CPU the pipeline's pure per-delivery work costs in one process, without
 * Postgres, NATS or HTTP — planning a batch's deliveries (fan-out, redaction, bodies), sealing a batch of first attempts (two HMACs, the hop hashes, the custody
 * record, the batch tree, one Ed25519 signature per batch), settling an attempt's result, encoding
 * and batching outcome records, and the primitives under them. Steadier than the pipeline benchmark (no other process shares the
 * measurement), so it shows what a change to this code is worth. Figures are µs of CPU (user +
 * system) per unit, after a warm-up, with the services' node:crypto backend installed.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { batchOf, encodeOutcomeRecord, sealAttempts, type AttemptToSeal } from "@custody/custody";
import { sha256 } from "@custody/crypto";
import { toHex, utf8Bytes } from "@custody/encoding";
import { generateSigner } from "@custody/note";
import { useNativeCrypto } from "@custody/runtime";
import { generateSecret, secretKeyId } from "@custody/signing";
import { settle, policyFor } from "../services/pipeline/src/deliver/settle.js";
import { planDeliveries, type DispatchEvent } from "../services/pipeline/src/dispatch/plan.js";
import { endpointInfo } from "../services/pipeline/src/shared/endpoints.fixture.js";
import { ownerKey } from "../services/pipeline/src/shared/secrets.js";
import { progress, type BenchResult } from "./report.js";

const BATCH = 64;
const BODY_BYTES = 1_024;

/** µs of CPU per call of `f`, each call doing `unitsPerCall` units. */
function cpuMicros(f: () => unknown, calls: number, unitsPerCall = 1): number {
  for (let i = 0; i < Math.ceil(calls / 5); i++) f();
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) f();
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / (calls * unitsPerCall)) * 100) / 100;
}

export async function benchSeal(): Promise<BenchResult> {
  useNativeCrypto();
  const signer = generateSigner("custody.bench/log");
  const secret = generateSecret();
  const body = utf8Bytes(JSON.stringify({ data: "x".repeat(BODY_BYTES - 11) }));
  const attempts: AttemptToSeal[] = Array.from({ length: BATCH }, (_, i) => ({
    tenant: "ten_benchbenchbenchben",
    delivery: `dlv_${randomBytes(12).toString("hex")}`,
    event: `evt_${i}_${randomBytes(8).toString("hex")}`,
    eventType: "order.created",
    attempt: 1,
    target: { endpoint: "wh_benchbenchbenchbenc" },
    previous: null,
    idempotencyKey: randomUUID(),
    body,
    ingested: randomBytes(32),
    redacted: randomBytes(32),
    secrets: [{ secret, keyId: secretKeyId(secret) }],
  }));
  const outcome = (i: number) =>
    encodeOutcomeRecord({
      tenant: "ten_benchbenchbenchben",
      delivery: attempts[i % BATCH]!.delivery,
      attempt: 1,
      root: toHex(attempts[i % BATCH]!.ingested),
      outcome: "delivered",
      status: 200,
      error: null,
      startedAt: "2026-12-04T12:00:00.000Z",
      durationMs: 3,
      responseSha256: null,
    });
  const records = Array.from({ length: BATCH }, (_, i) => outcome(i));
  const small = randomBytes(65);
  const text = `{"attempt":1,"delivery":"${attempts[0]!.delivery}","pad":"${"y".repeat(560)}"}`;

  // The pipeline benchmark's shape: two thin endpoints subscribed to everything, a type without personal fields.
  const endpoints = ["wh_benchbenchbenchbenc", "wh_benchbenchbenchbend"].map((id) => endpointInfo("ten_benchbenchbenchben", id));
  const events: DispatchEvent[] = attempts.map((a) => ({
    tenantId: a.tenant,
    eventId: a.event,
    type: a.eventType,
    occurredAt: new Date(),
    supersedes: null,
    metadata: null,
    payload: utf8Bytes(JSON.stringify({ n: "x".repeat(BODY_BYTES - 8) })),
    callbackUrl: null,
    ingested: a.ingested,
    personalDataFields: [],
  }));
  const secrets = new Map(endpoints.map((e) => [ownerKey({ tenantId: e.tenantId, endpointId: e.id }), [{ secret, keyId: secretKeyId(secret) }]]));
  const plan = () =>
    planDeliveries({
      events,
      endpointsOf: () => endpoints,
      secrets,
      existing: new Set(),
      canSendNow: () => true,
      parkMsOf: () => 0,
      now: new Date(),
      newId: () => "dlv_benchbenchbenchbenchbe",
      newUuid: randomUUID,
    });
  const { policy } = policyFor("endpoint", null);
  const settled = () =>
    settle({
      attempt: { startedAt: new Date(), durationMs: 3, statusCode: 200, errorClass: null },
      delivery: { attemptNo: 1, firstAttemptAt: null, lastDelayMs: null, kind: "endpoint" },
      policy,
      endpoint: { failingSince: null, disabledAt: null },
      nowMs: Date.now(),
      random: Math.random,
      disableAfterMs: 5 * 24 * 3_600_000,
    });

  const bar = progress("seal", 7);
  const figures: Record<string, number> = {};
  const now = Math.floor(Date.now() / 1000);
  figures[`seal: planDeliveries, µs per delivery (${BATCH} events × 2 thin endpoints, ${BODY_BYTES}-byte payload, no personal fields)`] = cpuMicros(plan, 1_500, BATCH * 2);
  bar.update(1);
  figures["seal: settle (a 200 to an endpoint), µs per attempt"] = cpuMicros(settled, 300_000);
  bar.update(2);
  figures[`seal: sealAttempts, µs per attempt (batches of ${BATCH}, ${BODY_BYTES}-byte body, one secret)`] = cpuMicros(() => sealAttempts(attempts, signer, now), 1_500, BATCH);
  bar.update(3);
  figures["seal: encodeOutcomeRecord, µs per record"] = cpuMicros(() => outcome(7), 100_000);
  bar.update(4);
  figures[`seal: batchOf (outcome batch tree), µs per record (batches of ${BATCH})`] = cpuMicros(() => batchOf(records), 3_000, BATCH);
  bar.update(5);
  figures["seal: SHA-256 of 65 bytes (node:crypto backend), µs"] = cpuMicros(() => sha256(small), 300_000);
  bar.update(6);
  figures[`seal: UTF-8 of a ${text.length}-character record (utf8Bytes), µs`] = cpuMicros(() => utf8Bytes(text), 300_000);
  bar.update(7);
  bar.stop();
  return { name: "seal", figures };
}
