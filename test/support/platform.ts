import { randomBytes } from "node:crypto";
import { expect, vi } from "vitest";
import { connectBus, deleteTopology, ensureTopology, OptionalBus, type NatsConnection } from "@custody/bus";
import { testPrefix } from "@custody/bus/testing";
import { loadConfig } from "@custody/config";
import { createDb, type Db } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import type { HttpApp } from "@custody/http";
import { createLogger } from "@custody/log";
import { createTenant } from "@custody/tenancy";
import { buildApiApp } from "../../services/api/src/app.js";
import { SERVICE_NODE_FLAGS } from "../../services/cli/src/supervisor.js";
import { buildProofsApp } from "../../services/proofs/src/app.js";
import { spawnTs, type Spawned } from "./processes.js";

export const ORIGIN = "custody.test/log";
const ACK_WAIT_MS = 5_000;

/**
 * A whole platform for one test file: its own database and NATS prefix, the API in-process (tests
 * call it with `inject`) offering small commits to the pipeline as in production, and pipeline
 * processes started as `npm start` would start them.
 */
export class TestPlatform {
  readonly prefix = testPrefix();
  readonly masterKey = randomBytes(32);
  t!: TestDatabase;
  api!: HttpApp;
  proofs!: HttpApp;
  nc!: NatsConnection;
  private apiBus!: OptionalBus;
  private ingestDb!: Db;
  readonly pipelines: Spawned[] = [];

  async start(): Promise<void> {
    this.t = await createTestDatabase("e2e");
    const logger = createLogger({ service: "test", level: "silent", pretty: false });
    const natsUrl = loadConfig("cli").NATS_URL;
    this.nc = await connectBus({ url: natsUrl, name: "e2e" });
    this.apiBus = new OptionalBus({ url: natsUrl, name: "e2e-api" }, logger);
    // Ingest writes through a prepared connection of its own, as the API's main.ts has it.
    this.ingestDb = createDb({ url: this.t.url, poolMax: 1, statementTimeoutMs: 60_000, applicationName: "e2e-api-writer", indexPlans: true }).db;
    this.api = await buildApiApp({
      db: this.t.db,
      ingestDb: this.ingestDb,
      config: loadConfig("api", { CUSTODY_ALLOW_LOOPBACK_TARGETS: "true", CUSTODY_NATS_PREFIX: this.prefix }),
      masterKey: this.masterKey,
      logger,
      readiness: {},
      bus: this.apiBus,
    });
    await this.api.ready();
    // The stream before the first event, and the API connected to it: events take the offered way, as in production.
    await ensureTopology(this.nc, this.prefix, ACK_WAIT_MS);
    await vi.waitFor(() => expect(this.apiBus.connection).toBeDefined(), { timeout: 10_000, interval: 10 });
    this.proofs = await buildProofsApp({
      db: this.t.db,
      config: loadConfig("proofs", { CUSTODY_NATS_PREFIX: this.prefix, CUSTODY_LOG_ORIGIN: ORIGIN }),
      logger: createLogger({ service: "test", level: "silent", pretty: false }),
      readiness: {},
    });
    await this.proofs.ready();
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.t.url,
      CUSTODY_NATS_PREFIX: this.prefix,
      CUSTODY_MASTER_KEY: this.masterKey.toString("base64"),
      CUSTODY_LOG_ORIGIN: ORIGIN,
      CUSTODY_ALLOW_LOOPBACK_TARGETS: "true",
      CUSTODY_RELAY_POLL_MS: "100",
      CUSTODY_SCHEDULER_INTERVAL_MS: "100",
      CUSTODY_CHECKPOINT_INTERVAL_MS: "100",
      // A killed stage's messages come back after this; tests kill stages on purpose.
      CUSTODY_STAGE_ACK_WAIT_MS: String(ACK_WAIT_MS),
      ...extra,
    };
  }

  startPipeline(stages = "all", extra: Record<string, string> = {}): Spawned {
    const p = spawnTs("services/pipeline/src/main.ts", [], this.env({ CUSTODY_PIPELINE_STAGES: stages, ...extra }), SERVICE_NODE_FLAGS);
    this.pipelines.push(p);
    return p;
  }

  async tenant(name = "Acme"): Promise<{ tenantId: string; key: string; auth: Record<string, string> }> {
    const created = await createTenant(this.t.db, name);
    return { tenantId: created.tenantId, key: created.apiKey, auth: { authorization: `Bearer ${created.apiKey}` } };
  }

  async stop(): Promise<void> {
    for (const p of this.pipelines) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    await Promise.all(this.pipelines.map((p) => p.exited));
    await this.api.close();
    await this.ingestDb.destroy();
    await this.apiBus.close();
    await this.proofs.close();
    await deleteTopology(this.nc, this.prefix);
    await this.nc.close();
    await this.t.drop();
  }
}
