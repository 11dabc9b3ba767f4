import { createHttpApp, type HttpApp, type ReadinessCheck } from "@custody/http";
import type { ProofsContext } from "./context.js";
import { registerCustodyRoutes } from "./custody-routes.js";
import { registerLedgerRoutes } from "./ledger-routes.js";

export interface ProofsDeps extends ProofsContext {
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
  registerLedgerRoutes(app, deps);
  registerCustodyRoutes(app, deps);
  return app;
}
