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
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batchSize * options.concurrency });
  const queue: JsMsg[] = [];
  // Every message this process holds, queued or in a batch, is kept alive with working() well inside
  // ack_wait: a slow batch or a long queue keeps its messages, and only a dead process strands any.
  const held = new Set<JsMsg>();
  const ackWaitMs = Number((await consumer.info()).config.ack_wait) / 1e6;
  const heartbeat = setInterval(() => {
    for (const m of held) m.working();
  }, Math.max(250, ackWaitMs / 3));
  const settle = (m: JsMsg, how: "ack" | "nak" | "term") => {
    held.delete(m);
    if (how === "ack") m.ack();
    else if (how === "nak") m.nak(REDELIVERY_DELAY_MS);
    else m.term();
  };
  let wake: (() => void) | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();

  const reader = (async () => {
    for await (const m of messages) {
      held.add(m);
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
        settle(msg, "term");
      }
    }
    if (good.length === 0) return;
    try {
      await options.handle(good.map((g) => g.item));
      for (const g of good) settle(g.msg, "ack");
    } catch (err) {
      logger.error({ err, stage: options.stage, size: good.length }, "batch failed; it will be redelivered");
      for (const g of good) settle(g.msg, "nak");
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
    clearInterval(heartbeat);
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
