import type { OptionalBus } from "@custody/bus";
import type { Db } from "@custody/db";
import { createHttpApp, type HttpApp, type ReadinessCheck } from "@custody/http";
import { registerProofRoutes } from "@custody/proof-routes";
import { apiKeyRoutes } from "./api-keys/routes.js";
import { callbackSecretRoutes } from "./callback-secret/routes.js";
import { consoleRoutes } from "./console/routes.js";
import { deliveryRoutes } from "./deliveries/routes.js";
import { EventTypeCache } from "./event-types/cache.js";
import { eventTypeRoutes } from "./event-types/routes.js";
import { eventAnnouncer } from "./events/announce.js";
import { IngestCommitter } from "./events/ingest-commit.js";
import type { Clock } from "./events/rate-limit.js";
import { eventRoutes } from "./events/routes.js";
import { portalSessionRoutes } from "./portal/routes.js";
import { receiptRoutes } from "./receipts/routes.js";
import type { ApiContext } from "./shared/context.js";
import { statsRoutes } from "./stats/routes.js";
import { webhookRoutes } from "./webhooks/routes.js";

export interface ApiDeps extends ApiContext {
  readiness: Record<string, ReadinessCheck>;
  /** The read replica (DATABASE_READ_URL) for the proof routes' public ledger reads; absent, they read `db`. */
  readDb?: Db | undefined;
  /** Monotonic milliseconds for the ingest rate limit; tests pass one they can step. */
  ingestClock?: Clock;
  /** Live API processes (`LivePeers`), among which the ingest rate limit is split; 1 when absent. */
  ingestPeers?: () => number;
  /** NATS, to offer committed events straight to the pipeline's stream; absent, ingest wakes the relay through Postgres. */
  bus?: OptionalBus | undefined;
  /** The connection the ingest group commit writes through (openDependencies' `writerDb`: its statement prepared once); absent, `db`. */
  ingestDb?: Db | undefined;
}

/** 256 KiB: the largest event body the ingest accepts. */
export const API_BODY_LIMIT = 256 * 1024;

/** The REST API as a fastify instance that does not listen: `main.ts` serves it, tests inject into it. */
export async function buildApiApp(deps: ApiDeps): Promise<HttpApp> {
  const app = await createHttpApp({
    logger: deps.logger,
    bodyLimit: API_BODY_LIMIT,
    readiness: deps.readiness,
    openapi: {
      title: "Custody API",
      description:
        "Tenants, API keys, endpoints, event types, event ingest and deliveries; and the proof routes (checkpoints, proofs, chain of custody, recall and replay), which the proof service also serves on its own.",
      version: "2.0.0",
    },
  });
  // Shared by ingest and the event-type routes (which forget a type when they change it).
  const eventTypes = new EventTypeCache(deps.db);
  // One encapsulated plugin per feature, each stating who may call its routes (shared/route-group.ts).
  await app.register(apiKeyRoutes, { prefix: "/api/v2/api-keys", ...deps });
  await app.register(eventTypeRoutes, { prefix: "/api/v2/event-types", ...deps, eventTypes });
  await app.register(webhookRoutes, { prefix: "/api/v2/webhooks", ...deps });
  await app.register(eventRoutes, {
    prefix: "/api/v2/events",
    ...deps,
    eventTypes,
    committer: new IngestCommitter(deps.ingestDb ?? deps.db, deps.masterKey, deps.logger, eventAnnouncer(deps.db, deps.bus, deps.config.CUSTODY_NATS_PREFIX, deps.logger)),
  });
  await app.register(callbackSecretRoutes, { prefix: "/api/v2/callback-secret", ...deps });
  await app.register(deliveryRoutes, { prefix: "/api/v2", ...deps });
  await app.register(statsRoutes, { prefix: "/api/v2/webhooks/stats", ...deps });
  await app.register(receiptRoutes, { prefix: "/api/v2/webhook-receipts", ...deps });
  await app.register(portalSessionRoutes, { prefix: "/api/v2", ...deps });
  await app.register(consoleRoutes, { prefix: "/console", ...deps });
  // Every /api/v2 route on one base URL.
  registerProofRoutes(app, { db: deps.db, readDb: deps.readDb, logger: deps.logger, logOrigin: deps.config.CUSTODY_LOG_ORIGIN });
  return app;
}
