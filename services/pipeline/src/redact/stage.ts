import { RedactMessage, msgIds, publishAll, runStage, subjectFor, type RunningStage } from "@custody/bus";
import { sql } from "@custody/db";
import type { JsonValue } from "@custody/redact";
import type { StageDeps } from "../fanout/stage.js";
import { prepareBody } from "./body.js";

interface Row {
  id: string;
  status: string;
  kind: "endpoint" | "callback";
  event_id: string;
  type: string;
  occurred_at: Date;
  supersedes: string | null;
  metadata: JsonValue | null;
  payload: Buffer | null;
  personal_data_fields: string[] | null;
  payload_shape: "thin" | "fat" | null;
  fat_ack_fields: string[] | null;
  has_body: boolean;
}

/**
 * Redact: prepares each delivery's body once — thin or fat per endpoint, the event type's personal
 * fields removed, each with a salted commitment. The first write wins (ON CONFLICT DO NOTHING), so
 * a redo after a crash never changes salts that a seal may already have committed to.
 */
export function startRedactStage(deps: StageDeps): Promise<RunningStage> {
  return runStage({
    nc: deps.nc,
    prefix: deps.prefix,
    stage: "redact",
    logger: deps.logger,
    decode: (v) => RedactMessage.parse(v),
    batchSize: deps.batchSize,
    maxWaitMs: 2,
    concurrency: 2,
    handle: async (batch) => {
      const ids = batch.map((b) => b.data.deliveryId);
      const rows = await sql<Row>`
        SELECT d.id, d.status, d.kind, d.event_id, e.type, e.occurred_at, e.supersedes, e.metadata, e.payload,
               t.personal_data_fields, ep.payload_shape, ep.fat_ack_fields,
               EXISTS (SELECT 1 FROM delivery_bodies b WHERE b.delivery_id = d.id) AS has_body
        FROM deliveries d
        JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
        LEFT JOIN event_types t ON t.id = e.event_type_id
        LEFT JOIN endpoints ep ON ep.id = d.endpoint_id
        WHERE d.id = ANY(${sql.val(ids)}::text[])`.execute(deps.db);
      const todo = rows.rows.filter((r) => r.status === "pending" && !r.has_body);
      const erased = todo.filter((r) => r.payload === null);
      const bodies = todo
        .filter((r) => r.payload !== null)
        .map((r) => {
          // Callbacks are thin too: a producer's own URL still should not receive personal data by default.
          const shape: "thin" | "fat" = r.kind === "endpoint" && r.payload_shape === "fat" ? "fat" : "thin";
          const prepared = prepareBody(
            { id: r.event_id, type: r.type, occurredAt: r.occurred_at, supersedes: r.supersedes, metadata: r.metadata },
            JSON.parse(r.payload!.toString("utf8")) as JsonValue,
            r.personal_data_fields ?? [],
            shape,
            new Set(r.fat_ack_fields ?? []),
          );
          return { delivery_id: r.id, body: Buffer.from(prepared.body), shape, removed: JSON.stringify(prepared.removed), redacted_hop: Buffer.from(prepared.redactedHop) };
        });
      await deps.db.transaction().execute(async (trx) => {
        if (bodies.length > 0) await trx.insertInto("delivery_bodies").values(bodies).onConflict((oc) => oc.column("delivery_id").doNothing()).execute();
        if (erased.length > 0) {
          await trx
            .updateTable("deliveries")
            .set({ status: "dead", dead_reason: "payload erased before delivery", updated_at: new Date() })
            .where("id", "in", erased.map((r) => r.id))
            .where("status", "=", "pending")
            .execute();
        }
      });
      const ready = rows.rows.filter((r) => r.status === "pending" && (r.has_body || r.payload !== null));
      await publishAll(
        deps.nc,
        ready.map((r) => ({ subject: subjectFor(deps.prefix, "seal"), data: { deliveryId: r.id, attemptNo: 1 }, msgId: msgIds.seal(r.id, 1) })),
      );
    },
  });
}
