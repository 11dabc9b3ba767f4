import { randomBytes } from "node:crypto";
import { loadConfig } from "@custody/config";
import type { NatsConnection } from "nats";
import { connectBus } from "./connect.js";
import { DEFAULT_ACK_WAIT_MS, deleteTopology, ensureTopology } from "./topology.js";

/** A stream and consumers of one test file's own, under a random prefix, so runs never collide. */
export interface TestTopology {
  nc: NatsConnection;
  prefix: string;
  /** Deletes the stream and its consumers and closes the connection. */
  drop(): Promise<void>;
}

/** A subject prefix no other test run uses. */
export const testPrefix = (): string => `t${randomBytes(5).toString("hex")}`;

/** Connects to the NATS server of the environment's config. */
export const connectTestBus = (name: string): Promise<NatsConnection> => connectBus({ url: loadConfig("cli").NATS_URL, name });

/** Connects to the NATS server of the environment's config and creates the topology under a fresh prefix. */
export async function createTestTopology(name: string, ackWaitMs = DEFAULT_ACK_WAIT_MS): Promise<TestTopology> {
  const prefix = testPrefix();
  const nc = await connectTestBus(name);
  await ensureTopology(nc, prefix, ackWaitMs);
  return {
    nc,
    prefix,
    async drop() {
      await deleteTopology(nc, prefix);
      await nc.close();
    },
  };
}
