import { connect, type NatsConnection } from "nats";
import { AppError } from "@custody/errors";

export interface BusSettings {
  url: string;
  name: string;
}

/** Connects to NATS and checks JetStream is enabled, failing with one clear error if either is not so. */
export async function connectBus(settings: BusSettings): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: settings.url.split(",").map((s) => s.trim()),
      name: settings.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // An Error (with its stack) per request only to improve rejected promises' traces: ~9 % of the
      // pipeline's CPU when measured (docs/benchmarks.md).
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `cannot connect to NATS at ${settings.url}: ${(err as Error).message}`, { cause: err });
  }
  await checkJetStream(nc);
  return nc;
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
