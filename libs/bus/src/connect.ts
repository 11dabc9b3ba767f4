import { connect, Events, type ConnectionOptions, type NatsConnection } from "nats";
import { AppError } from "@custody/errors";
import type { Logger } from "@custody/log";

export interface BusSettings {
  url: string;
  name: string;
}

/** Connects to NATS and checks JetStream is enabled, failing with one clear error if either is not so. */
export async function connectBus(settings: BusSettings): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(settings));
  } catch (err) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `cannot connect to NATS at ${settings.url}: ${(err as Error).message}`, { cause: err });
  }
  await checkJetStream(nc);
  return nc;
}

function connectionOptions(settings: BusSettings): ConnectionOptions {
  return {
    servers: settings.url.split(",").map((s) => s.trim()),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // An Error (with its stack) per request only to improve rejected promises' traces: ~9 % of the
    // pipeline's CPU when measured (docs/benchmarks.md).
    noAsyncTraces: true,
  };
}

/**
 * A NATS connection for a process that works without one and only goes faster with it: it connects
 * in the background (retrying until it can), and `connection` is the connection while it is up,
 * `undefined` while it is not, so a caller falls back instead of queueing messages in memory
 * through an outage.
 */
export class OptionalBus {
  private nc: NatsConnection | undefined;
  private up = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: BusSettings,
    private readonly logger: Logger,
    private readonly retryMs = 1_000,
  ) {
    void this.follow(true);
  }

  get connection(): NatsConnection | undefined {
    return this.up ? this.nc : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    clearTimeout(this.retry);
    await this.nc?.drain().catch((err: unknown) => this.logger.warn({ err }, "NATS drain failed"));
  }

  private async follow(first: boolean): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await connect(connectionOptions(this.settings));
    } catch (err) {
      if (first) this.logger.warn({ err, url: this.settings.url }, "NATS unreachable: going on without it, and trying again");
      if (!this.closed) this.retry = setTimeout(() => void this.follow(false), this.retryMs);
      return;
    }
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.up = true;
    this.logger.info({ server: nc.getServer() }, "connected to NATS");
    // Once connected, nats.js reconnects forever (connectionOptions); this only follows it.
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect) this.up = false;
        else if (status.type === Events.Reconnect) this.up = !this.closed && !nc.isClosed();
      }
    })();
    // Closed by close(), or by nats.js on an error it does not retry: then start over.
    await nc.closed();
    this.up = false;
    if (!this.closed) this.retry = setTimeout(() => void this.follow(false), this.retryMs);
  }
}

/** Resolves when the server answers and JetStream is on; used by readiness probes. */
export async function checkJetStream(nc: NatsConnection): Promise<void> {
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2_000 });
    await jsm.getAccountInfo();
  } catch (err) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `NATS answers but JetStream is not available: ${(err as Error).message}`, { cause: err });
  }
}
