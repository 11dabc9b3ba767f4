import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection } from "nats";
import { HOPS, subjectOf, type Hop } from "./hops.js";

/** Stream names may not contain dots. */
export function streamName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, "_").toUpperCase()}_PIPELINE`;
}

/**
 * How long JetStream waits for an ack before handing a message to another replica. The stage
 * runner keeps every message it holds alive with `working()`, so this bounds only how long the
 * messages of a process that died stay stranded.
 */
export const DEFAULT_ACK_WAIT_MS = 30_000;

/** Most messages one consumer may hold unacknowledged, across every process that runs it. */
const MAX_ACK_PENDING = 20_000;

/**
 * Creates (or updates) the work-queue stream and one durable pull consumer per hop, and removes
 * consumers no hop names any more (a work-queue stream refuses overlapping consumers, and an
 * orphan would strand its messages). Idempotent, so every process that uses the bus calls it at
 * start. Work-queue retention removes a message once acked; the duplicate window makes a
 * re-publish after a crash (same Nats-Msg-Id) a no-op.
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
  const wanted = new Set(Object.values(HOPS).map((h) => h.consumer as string));
  for await (const existing of await jsm.consumers.list(name)) {
    if (!wanted.has(existing.name)) await jsm.consumers.delete(name, existing.name).catch(() => undefined);
  }
  for (const hop of Object.keys(HOPS) as Hop[]) {
    const durable = HOPS[hop].consumer;
    const consumer = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjectOf(prefix, hop),
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: MAX_ACK_PENDING,
    };
    const exists = await jsm.consumers.info(name, durable).then(() => true, () => false);
    if (exists) await jsm.consumers.update(name, durable, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
    else {
      await jsm.consumers.add(name, consumer).catch(async (err: unknown) => {
        // Another process created it between our look and our add.
        if (!(await jsm.consumers.info(name, durable).then(() => true, () => false))) throw err;
      });
    }
  }
}

/** Removes the stream and its consumers (test clean-up). */
export async function deleteTopology(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(streamName(prefix)).catch(() => undefined);
}
