import { OptionalBus } from "@custody/bus";
import { loadConfig } from "@custody/config";
import { serve } from "@custody/http";
import { resolveMasterKey } from "@custody/keys";
import { LivePeers, openDependencies } from "@custody/runtime";
import { buildApiApp } from "./app.js";

const config = loadConfig("api");
const deps = await openDependencies("api", config, { nats: false, writer: config.CUSTODY_API_PREPARED_INGEST });
const peers = new LivePeers({ db: deps.db, kind: "api", heartbeatMs: config.CUSTODY_PEER_HEARTBEAT_MS, ttlMs: config.CUSTODY_PEER_TTL_MS, logger: deps.logger });
await peers.start();
// Ingest works without NATS (the relay announces every event); with it, events reach dispatch a hop sooner.
const bus = new OptionalBus({ url: config.NATS_URL, name: "custody-api" }, deps.logger);
const app = await buildApiApp({
  db: deps.db,
  readDb: deps.readDb,
  ingestDb: deps.writerDb,
  config,
  masterKey: resolveMasterKey(config.CUSTODY_MASTER_KEY, deps.logger),
  logger: deps.logger,
  readiness: deps.readiness,
  ingestPeers: () => peers.count,
  bus,
});
const address = await serve(app, {
  host: config.CUSTODY_API_HOST,
  port: config.CUSTODY_API_PORT,
  logger: deps.logger,
  graceMs: config.CUSTODY_SHUTDOWN_GRACE_MS,
  close: async () => {
    await peers.stop();
    await bus.close();
    await deps.close();
  },
});
deps.logger.info({ address }, "api listening");
