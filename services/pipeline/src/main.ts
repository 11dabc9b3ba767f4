import { loadConfig } from "@custody/config";
import { activePlatformSigner, resolveMasterKey } from "@custody/keys";
import type { Signer } from "@custody/note";
import { onShutdown, openDependencies } from "@custody/runtime";
import { Sequencer } from "./sequencer/sequencer.js";

const config = loadConfig("pipeline");
const deps = await openDependencies("pipeline", config);
const masterKey = resolveMasterKey(config.CUSTODY_MASTER_KEY, deps.logger);
const runs = (stage: string) => config.CUSTODY_PIPELINE_STAGES.includes("all") || config.CUSTODY_PIPELINE_STAGES.includes(stage as never);

// Reading and decrypting the key for every checkpoint would be wasted work; a rotation is picked up within a minute.
const SIGNER_TTL_MS = 60_000;
let cached: { signer: Signer; at: number } | undefined;
async function signer(): Promise<Signer> {
  if (!cached || Date.now() - cached.at > SIGNER_TTL_MS) {
    cached = { signer: await activePlatformSigner(deps.db, masterKey, config.CUSTODY_LOG_ORIGIN), at: Date.now() };
  }
  return cached.signer;
}

const stops: Array<() => Promise<void>> = [];
if (runs("sequencer")) {
  const sequencer = new Sequencer({
    databaseUrl: config.DATABASE_URL,
    logger: deps.logger.child({ stage: "sequencer" }),
    signer,
    batchSize: config.CUSTODY_SEQUENCER_BATCH,
    pollMs: config.CUSTODY_SEQUENCER_POLL_MS,
    checkpointIntervalMs: config.CUSTODY_CHECKPOINT_INTERVAL_MS,
    lockRetryMs: config.CUSTODY_SEQUENCER_LOCK_RETRY_MS,
  });
  const running = sequencer.run();
  stops.push(async () => {
    sequencer.stop();
    await running;
  });
}

onShutdown(deps.logger, config.CUSTODY_SHUTDOWN_GRACE_MS, async () => {
  await Promise.all(stops.map((stop) => stop()));
  await deps.close();
});
deps.logger.info({ stages: config.CUSTODY_PIPELINE_STAGES }, "pipeline started");
