import type { ConsumerMessages, JsMsg, NatsConnection } from "nats";
import type { Logger } from "@custody/log";
import { streamName, type ConsumingStage } from "./topology.js";

export interface Received<T> {
  data: T;
  /** How many times JetStream has delivered this message (1 on the first try). */
  deliveryCount: number;
}

export interface StageRunnerOptions<T> {
  nc: NatsConnection;
  prefix: string;
  stage: ConsumingStage;
  logger: Logger;
  /** Parses a message; a throw means a malformed message, which is terminated (never retried). */
  decode: (value: unknown) => T;
  /** Handles a batch. Resolving acks the whole batch; throwing naks it for redelivery after a delay. */
  handle: (batch: Array<Received<T>>) => Promise<void>;
  batchSize: number;
  /** How long the first message of a batch waits for company. */
  maxWaitMs: number;
  /** Batches handled at once by this process. */
  concurrency: number;
}

const decoder = new TextDecoder();
const REDELIVERY_DELAY_MS = 1_000;
/** Well inside the shortest ack_wait (30 s): a slow batch keeps its messages instead of having them redelivered elsewhere. */
const WORKING_INTERVAL_MS = 10_000;

export interface RunningStage {
  stop(): Promise<void>;
}

/**
 * A durable pull consumer that hands messages to `handle` in micro-batches: the cost of a Postgres
 * round trip or a signature is paid per batch, not per message. Any number of processes may run the
 * same stage; JetStream spreads messages over them, and an unacked message returns after ack_wait.
 */
export async function runStage<T>(options: StageRunnerOptions<T>): Promise<RunningStage> {
  const { logger } = options;
  const consumer = await options.nc.jetstream().consumers.get(streamName(options.prefix), options.stage);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batchSize * options.concurrency * 2 });
  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();

  const reader = (async () => {
    for await (const m of messages) {
      queue.push(m);
      wake?.();
    }
    stopping = true;
    wake?.();
  })();

  async function handleBatch(batch: JsMsg[]): Promise<void> {
    const good: Array<{ msg: JsMsg; item: Received<T> }> = [];
    for (const msg of batch) {
      try {
        good.push({ msg, item: { data: options.decode(JSON.parse(decoder.decode(msg.data))), deliveryCount: msg.info.redeliveryCount } });
      } catch (err) {
        logger.error({ err, subject: msg.subject, seq: msg.seq }, "malformed message terminated");
        msg.term();
      }
    }
    if (good.length === 0) return;
    const heartbeat = setInterval(() => {
      for (const g of good) g.msg.working();
    }, WORKING_INTERVAL_MS);
    try {
      await options.handle(good.map((g) => g.item));
      for (const g of good) g.msg.ack();
    } catch (err) {
      logger.error({ err, stage: options.stage, size: good.length }, "batch failed; it will be redelivered");
      for (const g of good) g.msg.nak(REDELIVERY_DELAY_MS);
    } finally {
      clearInterval(heartbeat);
    }
  }

  const worker = (async () => {
    while (!stopping || queue.length > 0) {
      if (queue.length === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      if (queue.length < options.batchSize && options.maxWaitMs > 0 && !stopping) {
        await new Promise((r) => setTimeout(r, options.maxWaitMs));
      }
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      const batch = queue.splice(0, options.batchSize);
      const p = handleBatch(batch).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  })();

  return {
    async stop() {
      stopping = true;
      await messages.close();
      wake?.();
      await reader;
      await worker;
    },
  };
}
