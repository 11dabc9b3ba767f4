import type { ConsumerMessages, JsMsg, NatsConnection } from "nats";
import type { Logger } from "@custody/log";
import { HOPS, type Hop, type HopMessage } from "./hops.js";
import { streamName } from "./topology.js";

export interface Received<T> {
  data: T;
  /** How many times JetStream has delivered this message (1 on the first try). */
  deliveryCount: number;
  /** When the stream stored it, in milliseconds since the epoch (by the NATS server's clock). */
  storedAtMs: number;
}

export interface StageRunnerOptions<H extends Hop> {
  nc: NatsConnection;
  prefix: string;
  /** The hop this stage consumes (its durable consumer and message schema). */
  hop: H;
  logger: Logger;
  /**
   * Handles a batch. Resolving with nothing acks the whole batch; resolving with one promise per
   * message acks each message when its promise resolves (and naks it for redelivery if it rejects),
   * so a message can stay held — kept alive — until work that outlives the batch is done. Throwing
   * naks the whole batch. A message that does not parse is terminated, never retried.
   */
  handle: (batch: Array<Received<HopMessage<H>>>) => Promise<void | ReadonlyArray<Promise<unknown>>>;
  /** Most units of work (the hop's `weight`: events, for the events hop) in one batch; a heavier message goes alone. */
  batchSize: number;
  /** Batches in `handle` at once in this process. */
  concurrency: number;
  /** Most units of work this process holds in unacknowledged messages; it stops handing out batches at this many. */
  maxHeld: number;
}

const decoder = new TextDecoder();
const REDELIVERY_DELAY_MS = 1_000;

interface ParsedOf<T> {
  msg: JsMsg;
  item: Received<T>;
  weight: number;
}

export interface RunningStage {
  stop(): Promise<void>;
}

/**
 * A pull request lives only on the consumer's leader. When that NATS server dies, the request dies
 * with it, and the client notices only by two missed idle heartbeats, then pulls again. At nats.js's
 * defaults (30 s expiry, 15 s heartbeat) a consumer sat idle about 30 s after its leader's loss,
 * against a 5 s election (chaos `nats-cluster`); a 1 s heartbeat bounds that to about 2 s after the
 * election. Heartbeats flow only while a pull waits with nothing to deliver. `bind` makes that
 * re-pull a plain pull: without it the client first asks for the consumer's info, and when that
 * fails mid-election it backs off for up to the expiry (seen: 17.9 s of stall after a 5.3 s election).
 * The consumer exists: ensureTopology made it before any stage starts.
 */
const PULL_EXPIRES_MS = 10_000;
const PULL_HEARTBEAT_MS = 1_000;

/**
 * A durable pull consumer that hands messages to `handle` in micro-batches: the cost of a Postgres
 * round trip or a signature is paid per batch, not per message. A batch is whatever has arrived
 * when a worker is free — at low rates that is one message, handled at once, never held back to
 * wait for company. Any number of processes may run the same stage; JetStream spreads messages over
 * them, and an unacked message returns after ack_wait.
 */
export async function runStage<H extends Hop>(options: StageRunnerOptions<H>): Promise<RunningStage> {
  const { logger } = options;
  const { consumer: durable, schema } = HOPS[options.hop];
  const weightOf = HOPS[options.hop].weight as (m: HopMessage<H>) => number;
  type Parsed = ParsedOf<HopMessage<H>>;
  const consumer = await options.nc.jetstream().consumers.get(streamName(options.prefix), durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: options.batchSize * options.concurrency, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS, bind: true });
  // Parsed as they arrive, so that batches are cut by weight.
  const queue: Parsed[] = [];
  let queuedWeight = 0;
  // Every message this process holds, queued, in a batch or waiting on its work, with its weight,
  // is kept alive with working() well inside ack_wait: only a dead process strands any.
  const held = new Map<JsMsg, number>();
  let heldWeight = 0;
  const ackWaitMs = Number((await consumer.info()).config.ack_wait) / 1e6;
  const heartbeat = setInterval(
    () => {
      for (const m of held.keys()) m.working();
    },
    Math.max(250, ackWaitMs / 3),
  );
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const settle = (m: JsMsg, how: "ack" | "nak" | "term") => {
    heldWeight -= held.get(m) ?? 0;
    held.delete(m);
    if (how === "ack") m.ack();
    else if (how === "nak") m.nak(REDELIVERY_DELAY_MS);
    else m.term();
    signal();
  };
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  const pending = new Set<Promise<unknown>>();

  const reader = (async () => {
    for await (const msg of messages) {
      let item: Received<HopMessage<H>>;
      try {
        item = { data: schema.parse(JSON.parse(decoder.decode(msg.data))) as HopMessage<H>, deliveryCount: msg.info.redeliveryCount, storedAtMs: Math.floor(msg.info.timestampNanos / 1e6) };
      } catch (err) {
        logger.error({ err, subject: msg.subject, seq: msg.seq }, "malformed message terminated");
        msg.term();
        continue;
      }
      const weight = weightOf(item.data);
      held.set(msg, weight);
      heldWeight += weight;
      queue.push({ msg, item, weight });
      queuedWeight += weight;
      signal();
    }
    stopping = true;
    signal();
  })();

  async function handleBatch(good: Parsed[]): Promise<void> {
    let completions: void | ReadonlyArray<Promise<unknown>>;
    try {
      completions = await options.handle(good.map((g) => g.item));
    } catch (err) {
      logger.error({ err, hop: options.hop, size: good.length }, "batch failed; it will be redelivered");
      for (const g of good) settle(g.msg, "nak");
      return;
    }
    if (completions === undefined) {
      for (const g of good) settle(g.msg, "ack");
      return;
    }
    good.forEach((g, i) => {
      const done = (completions as ReadonlyArray<Promise<unknown>>)[i] ?? Promise.resolve();
      const p = done.then(
        () => settle(g.msg, "ack"),
        (err: unknown) => {
          logger.error({ err, hop: options.hop }, "message failed; it will be redelivered");
          settle(g.msg, "nak");
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    });
  }

  const worker = (async () => {
    while (!stopping || queue.length > 0) {
      const full = inFlight.size >= options.concurrency || heldWeight - queuedWeight >= options.maxHeld;
      if (queue.length === 0 || full) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      let n = 1;
      let weight = queue[0]!.weight;
      while (n < queue.length && weight + queue[n]!.weight <= options.batchSize) weight += queue[n++]!.weight;
      const batch = queue.splice(0, n);
      queuedWeight -= weight;
      const p = handleBatch(batch).finally(() => {
        inFlight.delete(p);
        signal();
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await Promise.all(pending);
    clearInterval(heartbeat);
  })();

  return {
    async stop() {
      stopping = true;
      await messages.close();
      signal();
      await reader;
      await worker;
    },
  };
}
