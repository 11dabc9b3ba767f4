import type { Config } from "@custody/config";
import type { Db } from "@custody/db";
import { createHttpApp, type HttpApp, type ReadinessCheck } from "@custody/http";
import type { Logger } from "@custody/log";
import { registerProofRoutes } from "@custody/proof-routes";

export interface ProofsDeps {
  db: Db;
  /** The read replica (DATABASE_READ_URL) for the public ledger reads; absent, they read `db`. */
  readDb?: Db | undefined;
  config: Config<"proofs">;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
}

/** The proof service as a fastify instance that does not listen: `main.ts` serves it, tests inject into it. */
export async function buildProofsApp(deps: ProofsDeps): Promise<HttpApp> {
  const app = await createHttpApp({
    logger: deps.logger,
    bodyLimit: 64 * 1024,
    readiness: deps.readiness,
    openapi: {
      title: "Custody proof service",
      description: "Checkpoints, inclusion and consistency proofs, platform keys, chain-of-custody proofs, recall and replay.",
      version: "2.0.0",
    },
  });
  registerProofRoutes(app, { db: deps.db, readDb: deps.readDb, logger: deps.logger, logOrigin: deps.config.CUSTODY_LOG_ORIGIN });
  return app;
}
