import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection, type StreamConfig } from "nats";
import { AppError } from "@custody/errors";
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

/** JetStream allows at most 5 replicas of a stream. */
export const MAX_REPLICAS = 5;

/**
 * The work-queue stream's configuration. `replicas` is written out even when it is 1: an update
 * that leaves it out would scale an R3 stream down to one copy.
 */
export function streamConfig(prefix: string, replicas: number): Pick<StreamConfig, "name" | "subjects" | "retention" | "storage" | "duplicate_window" | "num_replicas"> {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new AppError("CONFIG_INVALID", `a JetStream stream takes 1 to ${MAX_REPLICAS} replicas, not ${replicas}`);
  }
  return {
    name: streamName(prefix),
    subjects: [`${prefix}.pipeline.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
    num_replicas: replicas,
  };
}

/**
 * The error for a stream the server would not create or rescale to `wanted` replicas: the usual
 * causes are a single server (not a cluster) or fewer servers than replicas, so it says both.
 */
export function replicasRefused(name: string, current: number | undefined, wanted: number, cause: unknown): AppError {
  const was = current === undefined ? "creating it" : `it has ${current}`;
  return new AppError(
    "DEPENDENCY_UNAVAILABLE",
    `NATS refused stream ${name} with ${wanted} replica(s) (${was}): ${(cause as Error).message}. ` +
      `CUSTODY_NATS_REPLICAS must not exceed the number of JetStream servers in the NATS cluster (1 for a single server); ` +
      `set it to what the cluster can hold, the same in every pipeline process.`,
    { cause },
  );
}

/**
 * Creates (or updates) the work-queue stream and one durable pull consumer per hop, and removes
 * consumers no hop names any more (a work-queue stream refuses overlapping consumers, and an
 * orphan would strand its messages). Idempotent, so every process that uses the bus calls it at
 * start. Work-queue retention removes a message once acked; the duplicate window makes a
 * re-publish after a crash (same Nats-Msg-Id) a no-op.
 */
export async function ensureTopology(nc: NatsConnection, prefix: string, ackWaitMs = DEFAULT_ACK_WAIT_MS, replicas = 1): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const config = streamConfig(prefix, replicas);
  const name = config.name;
  const existing = await jsm.streams.info(name).catch(() => undefined);
  if (existing !== undefined) {
    // A single server accepts an update to R3 and then reports R3 while it keeps one copy, so
    // that is refused here; a clustered stream (one with cluster info) is rescaled in place by the
    // update, durable consumers included, keeping its messages.
    if (replicas > 1 && existing.cluster === undefined) {
      throw replicasRefused(name, existing.config.num_replicas, replicas, new Error("the NATS server is not part of a cluster"));
    }
    await jsm.streams.update(name, config).catch((err: unknown) => {
      throw existing.config.num_replicas === replicas ? err : replicasRefused(name, existing.config.num_replicas, replicas, err);
    });
  } else {
    await jsm.streams.add(config).catch(async (err: unknown) => {
      // Another process created it between our look and our add.
      const raced = await jsm.streams.info(name).catch(() => undefined);
      if (raced === undefined) throw replicasRefused(name, undefined, replicas, err);
      if (raced.config.num_replicas !== replicas) {
        await jsm.streams.update(name, config).catch((e: unknown) => {
          throw replicasRefused(name, raced.config.num_replicas, replicas, e);
        });
      }
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
    const exists = await jsm.consumers.info(name, durable).then(
      () => true,
      () => false,
    );
    if (exists) await jsm.consumers.update(name, durable, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
    else {
      await jsm.consumers.add(name, consumer).catch(async (err: unknown) => {
        // Another process created it between our look and our add.
        if (
          !(await jsm.consumers.info(name, durable).then(
            () => true,
            () => false,
          ))
        )
          throw err;
      });
    }
  }
}

/** Removes the stream and its consumers (test clean-up). */
export async function deleteTopology(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(streamName(prefix)).catch(() => undefined);
}
