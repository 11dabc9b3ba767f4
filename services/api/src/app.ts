import { createHttpApp, type HttpApp, type ReadinessCheck } from "@custody/http";
import { registerProofRoutes } from "@custody/proof-routes";
import { registerApiKeyRoutes } from "./api-keys/routes.js";
import { registerConsoleRoutes } from "./console/routes.js";
import { registerPortalSessionRoutes } from "./portal/routes.js";
import type { ApiContext } from "./shared/context.js";
import type { Clock } from "./events/rate-limit.js";
import { registerDeliveryRoutes } from "./deliveries/routes.js";
import { registerEventTypeRoutes } from "./event-types/routes.js";
import { EventTypeCache } from "./event-types/cache.js";
import { registerEventRoutes } from "./events/routes.js";
import { IngestCommitter } from "./events/ingest-commit.js";
import { registerReceiptRoutes } from "./receipts/routes.js";
import { registerStatsRoutes } from "./stats/routes.js";
import { registerTestEventRoutes } from "./webhooks/test-events-routes.js";
import { registerWebhookRoutes } from "./webhooks/endpoint-routes.js";

export interface ApiDeps extends ApiContext {
  readiness: Record<string, ReadinessCheck>;
  /** Monotonic milliseconds for the ingest rate limit; tests pass one they can step. */
  ingestClock?: Clock;
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
  registerApiKeyRoutes(app, deps);
  registerEventTypeRoutes(app, { ...deps, eventTypes });
  registerWebhookRoutes(app, deps);
  registerEventRoutes(app, { ...deps, eventTypes, committer: new IngestCommitter(deps.db, deps.masterKey, deps.logger) });
  registerDeliveryRoutes(app, deps);
  registerTestEventRoutes(app, deps);
  registerStatsRoutes(app, deps);
  registerReceiptRoutes(app, deps);
  registerPortalSessionRoutes(app, deps);
  registerConsoleRoutes(app, deps);
  // Every /api/v2 route on one base URL.
  registerProofRoutes(app, { db: deps.db, logger: deps.logger, logOrigin: deps.config.CUSTODY_LOG_ORIGIN });
  return app;
}
