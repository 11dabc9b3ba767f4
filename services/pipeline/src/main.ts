import { loadConfig } from "@custody/config";
import { ensureTopology } from "@custody/bus";
import { resolveMasterKey } from "@custody/keys";
import { onShutdown, openDependencies } from "@custody/runtime";
import { startDeliverStage } from "./deliver/stage.js";
import { startFanoutStage } from "./fanout/stage.js";
import { cachedPlatformSigner } from "./platform-signer.js";
import { startRedactStage } from "./redact/stage.js";
import { Relay } from "./relay/relay.js";
import { RetryScheduler } from "./scheduler/scheduler.js";
import { startSealStage } from "./seal/stage.js";
import { SecretStore } from "./seal/secrets.js";
import { Sequencer } from "./sequencer/sequencer.js";

const config = loadConfig("pipeline");
const deps = await openDependencies("pipeline", config);
const masterKey = resolveMasterKey(config.CUSTODY_MASTER_KEY, deps.logger);
const runs = (stage: string) => config.CUSTODY_PIPELINE_STAGES.includes("all") || config.CUSTODY_PIPELINE_STAGES.includes(stage as never);
const signer = cachedPlatformSigner(deps.db, masterKey, config.CUSTODY_LOG_ORIGIN);
const prefix = config.CUSTODY_NATS_PREFIX;
// Only the stages that use JetStream need the stream (a sequencer-only process does not).
if (["relay", "fanout", "redact", "seal", "deliver", "scheduler"].some(runs)) await ensureTopology(deps.nc, prefix, config.CUSTODY_STAGE_ACK_WAIT_MS);

const stops: Array<() => Promise<void>> = [];
const stageDeps = (stage: string) => ({ db: deps.db, nc: deps.nc, prefix, logger: deps.logger.child({ stage }), batchSize: config.CUSTODY_STAGE_BATCH });

/** A loop-shaped component (relay, scheduler, sequencer): run it and stop it on shutdown. */
function loop(component: { run(): Promise<void>; stop(): void }): void {
  const running = component.run();
  stops.push(async () => {
    component.stop();
    await running;
  });
}

if (runs("sequencer")) {
  loop(
    new Sequencer({
      databaseUrl: config.DATABASE_URL,
      logger: deps.logger.child({ stage: "sequencer" }),
      signer,
      batchSize: config.CUSTODY_SEQUENCER_BATCH,
      pollMs: config.CUSTODY_SEQUENCER_POLL_MS,
      checkpointIntervalMs: config.CUSTODY_CHECKPOINT_INTERVAL_MS,
      lockRetryMs: config.CUSTODY_SEQUENCER_LOCK_RETRY_MS,
    }),
  );
}
if (runs("relay")) loop(new Relay({ ...stageDeps("relay"), databaseUrl: config.DATABASE_URL, pollMs: config.CUSTODY_RELAY_POLL_MS }));
if (runs("scheduler")) loop(new RetryScheduler({ ...stageDeps("scheduler"), intervalMs: config.CUSTODY_SCHEDULER_INTERVAL_MS }));
if (runs("fanout")) stops.push((await startFanoutStage(stageDeps("fanout"))).stop);
if (runs("redact")) stops.push((await startRedactStage(stageDeps("redact"))).stop);
if (runs("seal")) stops.push((await startSealStage({ ...stageDeps("seal"), signer, secrets: new SecretStore(deps.db, masterKey) })).stop);
if (runs("deliver")) stops.push((await startDeliverStage({ nc: deps.nc, prefix, db: deps.db, logger: deps.logger.child({ stage: "deliver" }), config })).stop);

onShutdown(deps.logger, config.CUSTODY_SHUTDOWN_GRACE_MS, async () => {
  await Promise.all(stops.map((stop) => stop()));
  await deps.close();
});
deps.logger.info({ stages: config.CUSTODY_PIPELINE_STAGES }, "pipeline started");
