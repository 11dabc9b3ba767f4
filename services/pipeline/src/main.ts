import { loadConfig } from "@custody/config";
import { ensureTopology } from "@custody/bus";
import { resolveMasterKey } from "@custody/keys";
import { LivePeers, onShutdown, openDependencies } from "@custody/runtime";
import { Deliverer } from "./deliver/deliverer.js";
import { OutcomeRecorder } from "./deliver/recorder.js";
import { createSender } from "./deliver/sender.js";
import { TargetGate } from "./deliver/target-gate.js";
import { startDispatchStage } from "./dispatch/stage.js";
import { cachedPlatformSigner } from "./platform-signer.js";
import { Relay } from "./relay/relay.js";
import { RetryScheduler } from "./scheduler/scheduler.js";
import { Sequencer } from "./sequencer/sequencer.js";
import { EndpointDirectory } from "./shared/endpoints.js";
import { SecretStore } from "./shared/secrets.js";

const config = loadConfig("pipeline");
const runs = (stage: string) => config.CUSTODY_PIPELINE_STAGES.includes("all") || config.CUSTODY_PIPELINE_STAGES.includes(stage as never);
// Only the relay and dispatch use JetStream; a scheduler- or sequencer-only process never connects.
const usesBus = runs("relay") || runs("dispatch");
const deps = await openDependencies("pipeline", config, { nats: usesBus, indexPlans: config.CUSTODY_PIPELINE_INDEX_PLANS });
const masterKey = resolveMasterKey(config.CUSTODY_MASTER_KEY, deps.logger);
const signer = cachedPlatformSigner(deps.db, masterKey, config.CUSTODY_LOG_ORIGIN);
const prefix = config.CUSTODY_NATS_PREFIX;
if (deps.nc !== undefined) await ensureTopology(deps.nc, prefix, config.CUSTODY_STAGE_ACK_WAIT_MS, config.CUSTODY_NATS_REPLICAS);

const stops: Array<() => Promise<void>> = [];
// A target is slow (and its excess deliveries are parked) while an exchange of it has run this long;
// any target's queue here is bounded by the hard cap.
const SLOW_TARGET_MS = 1_000;
const HARD_CAP_PER_TARGET = 4_096;
const logger = (stage: string) => deps.logger.child({ stage });

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
      logger: logger("sequencer"),
      signer,
      batchSize: config.CUSTODY_SEQUENCER_BATCH,
      pollMs: config.CUSTODY_SEQUENCER_POLL_MS,
      checkpointIntervalMs: config.CUSTODY_CHECKPOINT_INTERVAL_MS,
      lockRetryMs: config.CUSTODY_SEQUENCER_LOCK_RETRY_MS,
      indexPlans: config.CUSTODY_PIPELINE_INDEX_PLANS,
    }),
  );
}
if (runs("relay")) {
  loop(
    new Relay({
      databaseUrl: config.DATABASE_URL,
      nc: deps.nc!,
      prefix,
      logger: logger("relay"),
      batchSize: config.CUSTODY_STAGE_BATCH * 4,
      pollMs: config.CUSTODY_RELAY_POLL_MS,
      lockRetryMs: config.CUSTODY_SEQUENCER_LOCK_RETRY_MS,
      indexPlans: config.CUSTODY_PIPELINE_INDEX_PLANS,
    }),
  );
}
if (runs("dispatch") || runs("scheduler")) {
  const now = () => new Date();
  const endpoints = new EndpointDirectory(deps.db);
  const secrets = new SecretStore(deps.db, masterKey);
  // Every process that sends (dispatch or scheduler) takes an equal share of each endpoint's limits.
  const peers = new LivePeers({ db: deps.db, kind: "deliver", heartbeatMs: config.CUSTODY_PEER_HEARTBEAT_MS, ttlMs: config.CUSTODY_PEER_TTL_MS, logger: logger("deliver") });
  await peers.start();
  const sender = createSender({
    allowLoopback: config.CUSTODY_ALLOW_LOOPBACK_TARGETS,
    timeoutMs: config.CUSTODY_DELIVERY_TIMEOUT_MS,
    maxInFlight: config.CUSTODY_DELIVER_CONCURRENCY,
    maxPerEndpoint: config.CUSTODY_ENDPOINT_CONCURRENCY,
    peers: () => peers.count,
  });
  const disableAfterMs = config.CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS * 3_600_000;
  const recorder = new OutcomeRecorder({ db: deps.db, logger: logger("deliver"), endpoints, disableAfterMs, now, lingerMs: config.CUSTODY_OUTCOME_LINGER_MS });
  const gate = new TargetGate({ queue: config.CUSTODY_ENDPOINT_QUEUE, hardCap: HARD_CAP_PER_TARGET, slowMs: SLOW_TARGET_MS, now: Date.now });
  const deliverer = new Deliverer({ sender, gate, recorder, endpoints, logger: logger("deliver"), disableAfterMs, now, random: Math.random });
  // A parked delivery is looked at again after this; a leased one is taken back after the lease.
  const parkMs = 1_000;
  const leaseMs = Math.max(60_000, 4 * config.CUSTODY_DELIVERY_TIMEOUT_MS);
  if (runs("dispatch")) {
    const dispatch = await startDispatchStage({
      db: deps.db,
      nc: deps.nc!,
      prefix,
      logger: logger("dispatch"),
      endpoints,
      secrets,
      signer,
      deliverer,
      batchSize: config.CUSTODY_STAGE_BATCH,
      maxHeld: config.CUSTODY_DELIVER_CONCURRENCY * 2,
      parkMs,
    });
    stops.push(dispatch.stop);
  }
  if (runs("scheduler")) {
    loop(
      new RetryScheduler({
        db: deps.db,
        databaseUrl: config.DATABASE_URL,
        logger: logger("scheduler"),
        endpoints,
        secrets,
        signer,
        deliverer,
        intervalMs: config.CUSTODY_SCHEDULER_INTERVAL_MS,
        batchSize: config.CUSTODY_STAGE_BATCH,
        leaseMs,
        parkMs,
      }),
    );
  }
  stops.push(async () => {
    await recorder.stop();
    await sender.close();
    await peers.stop();
  });
}

onShutdown(deps.logger, config.CUSTODY_SHUTDOWN_GRACE_MS, async () => {
  // Components first (they stop taking work and finish what they hold), then the sender and recorder.
  for (const stop of stops) await stop();
  await deps.close();
});
deps.logger.info({ stages: config.CUSTODY_PIPELINE_STAGES }, "pipeline started");
