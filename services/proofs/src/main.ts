import { loadConfig } from "@custody/config";
import { serve } from "@custody/http";
import { openDependencies } from "@custody/runtime";
import { buildProofsApp } from "./app.js";

const config = loadConfig("proofs");
const deps = await openDependencies("proofs", config, { nats: false, replicaReadiness: true });
const app = await buildProofsApp({ db: deps.db, readDb: deps.readDb, config, logger: deps.logger, readiness: deps.readiness });
const address = await serve(app, {
  host: config.CUSTODY_PROOFS_HOST,
  port: config.CUSTODY_PROOFS_PORT,
  logger: deps.logger,
  graceMs: config.CUSTODY_SHUTDOWN_GRACE_MS,
  close: () => deps.close(),
});
deps.logger.info({ address }, "proofs listening");
