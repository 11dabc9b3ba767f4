/**
 * Flags of the pipeline benchmark (`npm run bench -- pipeline --flag=value …`); see the header of
 * bench/pipeline.ts for what each phase measures.
 */
import { resolve } from "node:path";
import { ROOT } from "../test/support/processes.js";

/** Every phase, in the order a run performs them (whatever the order given to --phases). */
export const PHASES = ["throughput", "gentle", "latency", "peer", "ingest", "ceiling"] as const;
export type Phase = (typeof PHASES)[number];

export interface Options {
  seconds: number;
  latencySeconds: number;
  rate: number;
  /** Open-loop rate of the gentle latency phase (events/s). */
  gentleRate: number;
  endpoints: number;
  concurrency: number;
  batch: number;
  backlog: number;
  pipeline: string[];
  env: Record<string, string>;
  apiEnv: Record<string, string>;
  profile: boolean;
  phases: Set<Phase>;
  ceilingSeconds: number;
  ceilingConcurrency: number;
  /** Seconds of the ingest phase (pipeline stopped, API and Postgres only). */
  ingestSeconds: number;
  /** SECONDS and BATCH given to ../shared/peers/load.mjs, for the peer and for Custody. */
  peerSeconds: number;
  peerBatch: number;
  /** RATE given to load.mjs: events/s, 0 = as fast as it goes (e.g. --peer-batch=1 --peer-rate=100: the gentle comparison). */
  peerRate: number;
  /** Alternated rounds of the peer phase (each: one peer run and one Custody run). */
  peerRounds: number;
  /** The machine counts as idle below this % busy (the peer's run.sh rule, `IDLE_PCT`). */
  peerIdlePct: number;
  /** The DIY BullMQ peer's directory (run.sh, src/, node_modules once installed). */
  peerDir: string;
  waitIdle: number;
  /** Postgres server log to count and time statements in (sets log_min_duration_statement = 0 on the bench database: slow, diagnostic only). */
  pgLog: string | undefined;
}

export function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^(?:--)?([A-Za-z_-]+)(?:=(.*))?$/.exec(a);
    if (m && (a.startsWith("--") || m[1] === "BENCH_SECONDS")) flags.set(m[1]!, m[2] ?? "true");
  }
  const num = (name: string, dflt: number) => {
    const v = flags.get(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const kv = (v: string | undefined) =>
    Object.fromEntries(
      (v ?? "")
        .split(",")
        .filter((s) => s.includes("="))
        .map((s) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)]),
    );
  const envSeconds = process.env.BENCH_SECONDS === undefined ? undefined : Number(process.env.BENCH_SECONDS);
  const seconds = num("seconds", num("BENCH_SECONDS", envSeconds ?? 60));
  const phases = (flags.get("phases") ?? PHASES.join(",")).split(",").filter((s) => s.length > 0);
  const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown phase ${unknown.join(", ")}; known: ${PHASES.join(", ")}`);
  // The phases whose figure needs no minute (ingest, the peer's load, the bare ceiling) run 20 s,
  // or --seconds when that is shorter (quick trial runs), unless given their own duration.
  const short = Math.min(seconds, 20);
  return {
    seconds,
    latencySeconds: num("latency-seconds", 20),
    rate: num("rate", 1_000),
    gentleRate: num("gentle-rate", 100),
    endpoints: num("endpoints", 2),
    concurrency: num("concurrency", 64),
    batch: num("batch", 1),
    backlog: num("backlog", 2_000),
    pipeline: (flags.get("pipeline") ?? "all").split("/").filter((s) => s.length > 0),
    env: kv(flags.get("env")),
    apiEnv: kv(flags.get("api-env")),
    profile: flags.has("profile"),
    phases: new Set(phases as Phase[]),
    ceilingSeconds: num("ceiling-seconds", short),
    ceilingConcurrency: num("ceiling-concurrency", 64),
    ingestSeconds: num("ingest-seconds", short),
    peerSeconds: num("peer-seconds", short),
    peerBatch: num("peer-batch", 100),
    peerRate: (() => {
      const n = Number(flags.get("peer-rate") ?? 0);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--peer-rate must be 0 or a positive number, got ${flags.get("peer-rate")}`);
      return n;
    })(),
    peerRounds: num("peer-rounds", 1),
    peerIdlePct: num("peer-idle-pct", 25),
    peerDir: resolve(flags.get("peer-dir") ?? resolve(ROOT, "../shared/peers/bullmq-baseline")),
    waitIdle: num("wait-idle", 30),
    pgLog: flags.get("pg-log"),
  };
}
