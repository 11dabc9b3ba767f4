import { randomUUID } from "node:crypto";
import { EventMessage, msgIds, publishAll, runStage, subjectFor, type NatsConnection, type RunningStage } from "@custody/bus";
import { newId, sql, type Db } from "@custody/db";
import type { Logger } from "@custody/log";
import { targetsFor } from "./targets.js";

export interface StageDeps {
  db: Db;
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
  batchSize: number;
}

/**
 * Fan-out: one delivery per (event, target). Inserting with ON CONFLICT DO NOTHING against the
 * one-per-target unique indexes makes a redelivered event harmless; afterwards every still-pending
 * delivery of the batch's events is (re)announced to redact — duplicates die on their Nats-Msg-Id.
 */
export function startFanoutStage(deps: StageDeps): Promise<RunningStage> {
  return runStage({
    nc: deps.nc,
    prefix: deps.prefix,
    stage: "fanout",
    logger: deps.logger,
    decode: (v) => EventMessage.parse(v),
    batchSize: deps.batchSize,
    maxWaitMs: 2,
    concurrency: 2,
    handle: async (batch) => {
      const keys = batch.map((b) => b.data);
      const pending = await deps.db.transaction().execute(async (trx) => {
        // Platform events made together with their deliveries (fan_out = false) are only announced.
        const events = await sql<{ tenant_id: string; id: string; type: string; callback_url: string | null }>`
          SELECT e.tenant_id, e.id, e.type, e.callback_url FROM events e
          JOIN unnest(${sql.val(keys.map((k) => k.tenantId))}::text[], ${sql.val(keys.map((k) => k.eventId))}::text[]) AS k(tenant_id, id)
            ON e.tenant_id = k.tenant_id AND e.id = k.id
          WHERE e.fan_out`.execute(trx);
        const tenants = [...new Set(events.rows.map((e) => e.tenant_id))];
        const endpoints = tenants.length === 0 ? [] : await trx
          .selectFrom("endpoints")
          .select(["id", "tenant_id", "url", "subscriptions"])
          .where("tenant_id", "in", tenants)
          .where("disabled_at", "is", null)
          .execute();
        const rows = events.rows.flatMap((event) =>
          targetsFor({ type: event.type, callbackUrl: event.callback_url }, endpoints.filter((e) => e.tenant_id === event.tenant_id)).map((t) => ({
            id: newId("dlv"),
            tenant_id: event.tenant_id,
            event_id: event.id,
            endpoint_id: t.kind === "endpoint" ? t.endpointId : null,
            kind: t.kind,
            target_url: t.url,
            idempotency_key: randomUUID(),
          })),
        );
        // In key order: two batches holding the same event (a redelivery) then wait on each other's
        // unique-index entries in the same order, never in a cycle.
        rows.sort((a, b) => `${a.tenant_id}/${a.event_id}/${a.endpoint_id ?? ""}`.localeCompare(`${b.tenant_id}/${b.event_id}/${b.endpoint_id ?? ""}`));
        if (rows.length > 0) await trx.insertInto("deliveries").values(rows).onConflict((oc) => oc.doNothing()).execute();
        return sql<{ id: string }>`
          SELECT d.id FROM deliveries d
          JOIN unnest(${sql.val(keys.map((k) => k.tenantId))}::text[], ${sql.val(keys.map((k) => k.eventId))}::text[]) AS k(tenant_id, event_id)
            ON d.tenant_id = k.tenant_id AND d.event_id = k.event_id
          WHERE d.status = 'pending' AND d.replay_id IS NULL`.execute(trx);
      });
      await publishAll(
        deps.nc,
        pending.rows.map((d) => ({ subject: subjectFor(deps.prefix, "redact"), data: { deliveryId: d.id }, msgId: msgIds.redact(d.id) })),
      );
    },
  });
}
