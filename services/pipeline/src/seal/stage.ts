import { SealMessage, msgIds, publishAll, runStage, subjectFor, type RunningStage, type SendMessage } from "@custody/bus";
import { newId, sql } from "@custody/db";
import { appendEntries } from "@custody/ledger-store";
import { toHex } from "@custody/merkle";
import type { Signer } from "@custody/note";
import type { StageDeps } from "../fanout/stage.js";
import { sealAttempts, type AttemptToSeal } from "./seal-attempts.js";
import { SecretStore } from "./secrets.js";

export interface SealStageDeps extends StageDeps {
  signer: () => Promise<Signer>;
  secrets: SecretStore;
  now?: () => Date;
}

interface Row {
  id: string;
  attempt_no: number;
  tenant_id: string;
  event_id: string;
  endpoint_id: string | null;
  status: string;
  attempts: number;
  target_url: string;
  idempotency_key: string;
  type: string;
  ingested: Buffer;
  body: Buffer | null;
  redacted_hop: Buffer | null;
  sealed_headers: Record<string, string> | null;
  sealed_root: Buffer | null;
  sealed_url: string | null;
}

function sendMessage(r: Row, url: string, headers: Record<string, string>, root: Uint8Array, body: Buffer): SendMessage {
  const keyIds = [headers["x-custody-signature-key-id"] ?? ""];
  return {
    deliveryId: r.id,
    attemptNo: r.attempt_no,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    url,
    headers,
    body: body.toString("base64"),
    custodyRoot: toHex(root),
    keyIds,
  };
}

/**
 * Seal: fixes each attempt before it is sent — signature headers, the four hop hashes, the custody
 * root, one seal signature per batch, and a `custody` ledger entry — then hands it to deliver. A
 * redelivered message for an attempt already sealed re-sends the stored seal: no attempt is ever
 * sealed twice. `deliveries.attempts` moves by compare-and-swap, so two replicas cannot both seal
 * the same attempt.
 */
export function startSealStage(deps: SealStageDeps): Promise<RunningStage> {
  const now = deps.now ?? (() => new Date());
  return runStage({
    nc: deps.nc,
    prefix: deps.prefix,
    stage: "seal",
    logger: deps.logger,
    decode: (v) => SealMessage.parse(v),
    batchSize: deps.batchSize,
    maxWaitMs: 2,
    concurrency: 2,
    handle: async (batch) => {
      const wanted = batch.map((b) => b.data);
      const { rows } = await sql<Row>`
        SELECT d.id, k.attempt_no, d.tenant_id, d.event_id, d.endpoint_id, d.status, d.attempts, d.target_url,
               d.idempotency_key, e.type, le.leaf_hash AS ingested, b.body, b.redacted_hop,
               s.headers AS sealed_headers, s.custody_root AS sealed_root, s.target_url AS sealed_url
        FROM unnest(${sql.val(wanted.map((w) => w.deliveryId))}::text[], ${sql.val(wanted.map((w) => w.attemptNo))}::int[]) AS k(id, attempt_no)
        JOIN deliveries d ON d.id = k.id
        JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
        JOIN ledger_entries le ON le.id = e.entry_id
        LEFT JOIN delivery_bodies b ON b.delivery_id = d.id
        LEFT JOIN delivery_seals s ON s.delivery_id = d.id AND s.attempt_no = k.attempt_no`.execute(deps.db);

      const resend = rows.filter((r) => r.sealed_headers !== null && r.body !== null && r.status === "delivering");
      const eligible = rows.filter(
        (r) =>
          r.sealed_headers === null &&
          r.body !== null &&
          r.redacted_hop !== null &&
          ((r.status === "pending" && r.attempt_no === 1 && r.attempts === 0) || (r.status === "retrying" && r.attempts === r.attempt_no - 1)),
      );
      const at = now();
      const secrets = eligible.length === 0 ? new Map() : await deps.secrets.validSecrets(eligible.map((r) => ({ tenantId: r.tenant_id, endpointId: r.endpoint_id })), at);
      const unsigned = eligible.filter((r) => !secrets.has(SecretStore.keyOf({ tenantId: r.tenant_id, endpointId: r.endpoint_id })));
      const toSeal: AttemptToSeal[] = eligible
        .filter((r) => !unsigned.includes(r))
        .map((r) => ({
          deliveryId: r.id,
          attemptNo: r.attempt_no,
          tenantId: r.tenant_id,
          eventId: r.event_id,
          eventType: r.type,
          endpointId: r.endpoint_id,
          url: r.target_url,
          idempotencyKey: r.idempotency_key,
          body: new Uint8Array(r.body!),
          ingestedHop: new Uint8Array(r.ingested),
          redactedHop: new Uint8Array(r.redacted_hop!),
          secrets: secrets.get(SecretStore.keyOf({ tenantId: r.tenant_id, endpointId: r.endpoint_id }))!,
        }));

      const outgoing: SendMessage[] = resend.map((r) => sendMessage(r, r.sealed_url!, r.sealed_headers!, new Uint8Array(r.sealed_root!), r.body!));
      await deps.db.transaction().execute(async (trx) => {
        if (unsigned.length > 0) {
          await trx
            .updateTable("deliveries")
            .set({ status: "dead", dead_reason: "no valid signing secret", updated_at: at })
            .where("id", "in", unsigned.map((r) => r.id))
            .execute();
        }
        if (toSeal.length === 0) return;
        // Lock the deliveries in id order first, as every other writer of them does, so concurrent
        // batches of any stage wait for each other instead of deadlocking.
        await sql`SELECT id FROM deliveries WHERE id = ANY(${sql.val(toSeal.map((a) => a.deliveryId))}::text[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx);
        const sealed = sealAttempts(toSeal, await deps.signer(), Math.floor(at.getTime() / 1000));
        const batchId = newId("seal");
        await trx
          .insertInto("seal_batches")
          .values({ id: batchId, size: sealed.batch.size, root: Buffer.from(sealed.batch.root), note: sealed.batch.note, key_id: sealed.batch.keyId })
          .execute();
        const entries = await appendEntries(trx, sealed.sealed.map((s) => ({ tenantId: s.attempt.tenantId, document: s.custodyDocument })));
        await trx
          .insertInto("delivery_seals")
          .values(
            sealed.sealed.map((s, i) => ({
              delivery_id: s.attempt.deliveryId,
              attempt_no: s.attempt.attemptNo,
              tenant_id: s.attempt.tenantId,
              seal_batch_id: batchId,
              batch_index: s.batchIndex,
              custody_root: Buffer.from(s.root),
              hops: JSON.stringify(Object.fromEntries(Object.entries(s.hops).map(([k, v]) => [k, toHex(v)]))),
              headers: JSON.stringify(s.headers),
              target_url: s.attempt.url,
              custody_entry_id: entries[i]!.id,
            })),
          )
          .execute();
        const moved = await sql`
          UPDATE deliveries d SET status = 'delivering', attempts = k.attempt_no, next_attempt_at = NULL,
                 first_attempt_at = coalesce(d.first_attempt_at, ${at}), updated_at = ${at}
          FROM unnest(${sql.val(toSeal.map((a) => a.deliveryId))}::text[], ${sql.val(toSeal.map((a) => a.attemptNo))}::int[]) AS k(id, attempt_no)
          WHERE d.id = k.id AND d.attempts = k.attempt_no - 1 AND d.status IN ('pending', 'retrying')`.execute(trx);
        if (Number(moved.numAffectedRows ?? 0) !== toSeal.length) {
          // Another replica sealed one of these meanwhile: roll back and let the redelivery re-send its seal.
          throw new Error(`seal lost a race on ${toSeal.length - Number(moved.numAffectedRows ?? 0)} deliveries`);
        }
        const rowOf = new Map(eligible.map((r) => [r.id, r]));
        for (const s of sealed.sealed) {
          const r = rowOf.get(s.attempt.deliveryId)!;
          outgoing.push({ ...sendMessage(r, s.attempt.url, s.headers, s.root, r.body!), keyIds: s.attempt.secrets.map((x) => x.keyId) });
        }
      });
      await publishAll(
        deps.nc,
        outgoing.map((m) => ({ subject: subjectFor(deps.prefix, "deliver"), data: m, msgId: msgIds.send(m.deliveryId, m.attemptNo) })),
      );
    },
  });
}
