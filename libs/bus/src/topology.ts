import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection } from "nats";

/** The pipeline's stages that consume from JetStream, and the subject each consumes. */
export const CONSUMING_STAGES = ["fanout", "redact", "seal", "deliver"] as const;
export type ConsumingStage = (typeof CONSUMING_STAGES)[number];

const SUBJECT_OF: Record<ConsumingStage, string> = { fanout: "events", redact: "redact", seal: "seal", deliver: "send" };

/** Stream names may not contain dots; subjects are `<prefix>.pipeline.<name>`. */
export function streamName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, "_").toUpperCase()}_PIPELINE`;
}

export function subjectFor(prefix: string, stage: ConsumingStage): string {
  return `${prefix}.pipeline.${SUBJECT_OF[stage]}`;
}

/**
 * How long JetStream waits for an ack before handing a message to another replica. The stage
 * runner keeps every message it holds alive with `working()`, so this bounds only how long the
 * messages of a process that died stay stranded.
 */
export const DEFAULT_ACK_WAIT_MS = 30_000;

/**
 * Creates (or updates) the work-queue stream and one durable pull consumer per stage. Idempotent,
 * so every process calls it at start. Work-queue retention removes a message once acked; the
 * duplicate window makes a re-publish after a crash (same Nats-Msg-Id) a no-op.
 */
export async function ensureTopology(nc: NatsConnection, prefix: string, ackWaitMs = DEFAULT_ACK_WAIT_MS): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const name = streamName(prefix);
  const config = {
    name,
    subjects: [`${prefix}.pipeline.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch {
    await jsm.streams.add(config).catch(async (err: unknown) => {
      // Another process created it between our look and our add.
      if (!(await jsm.streams.info(name).then(() => true, () => false))) throw err;
    });
  }
  for (const stage of CONSUMING_STAGES) {
    const consumer = {
      durable_name: stage,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjectFor(prefix, stage),
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 20_000,
    };
    const exists = await jsm.consumers.info(name, stage).then(() => true, () => false);
    if (exists) await jsm.consumers.update(name, stage, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
    else {
      await jsm.consumers.add(name, consumer).catch(async (err: unknown) => {
        // Another process created it between our look and our add.
        if (!(await jsm.consumers.info(name, stage).then(() => true, () => false))) throw err;
      });
    }
  }
}

/** Removes the stream and its consumers (test clean-up). */
export async function deleteTopology(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(streamName(prefix)).catch(() => undefined);
}
