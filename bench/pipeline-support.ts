/**
 * What the phases of the pipeline benchmark share: small helpers, the receiver process, and the
 * context a phase module is given (bench/pipeline.ts builds it once the platform is up).
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import type pg from "pg";
import type { TestDatabase } from "@custody/db/testing";
import { ROOT, type Spawned } from "../test/support/processes.js";
import type { Options } from "./pipeline-options.js";
import type { CpuMeter, CpuSnapshot, PgBackendMeter } from "./pipeline-probes.js";
import type { ParentMessage, ReceiverCounts, ReceiverMessage } from "./pipeline-receiver.js";

const TSX = createRequire(import.meta.url).resolve("tsx");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
export const wallMs = () => performance.timeOrigin + performance.now();
export const log = (s: string) => process.stderr.write(`${s}\n`);
export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The receiver process and its latest counts. */
export class ReceiverProcess {
  counts: ReceiverCounts = { requests: 0, delivered: 0, duplicates: 0, ceiling: 0, signatureFailures: 0, firstFailure: null };
  readonly child: ChildProcess;
  private readonly waiters: Array<(m: ReceiverMessage) => boolean> = [];
  readonly exited: Promise<void>;

  constructor(nodeArgs: readonly string[]) {
    this.child = fork(new URL("./pipeline-receiver.ts", import.meta.url).pathname, [], {
      execArgv: [...nodeArgs, "--import", TSX],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      cwd: ROOT,
    });
    this.exited = new Promise((r) => this.child.once("exit", () => r()));
    this.child.on("message", (m: ReceiverMessage) => {
      if ("counts" in m) this.counts = m.counts;
      for (let i = 0; i < this.waiters.length; i++) {
        if (this.waiters[i]!(m)) this.waiters.splice(i--, 1);
      }
    });
  }

  next<T>(pick: (m: ReceiverMessage) => T | undefined): Promise<T> {
    return new Promise((resolve) =>
      this.waiters.push((m) => {
        const v = pick(m);
        if (v === undefined) return false;
        resolve(v);
        return true;
      }),
    );
  }

  send(m: ParentMessage): void {
    this.child.send(m);
  }

  /** Counts fresher than `now` (the receiver pushes them every 100 ms). */
  fresh(): Promise<ReceiverCounts> {
    return this.next((m) => ("counts" in m ? m.counts : undefined));
  }
}

export async function stopProcess(p: Spawned, label: string): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!done) {
    log(`${label} did not stop within 20 s; killing it`);
    p.child.kill("SIGKILL");
    await p.exited;
  }
}

/** One POST of events: the ids accepted (201) and the statuses of the others. */
export interface Published {
  ids: string[];
  failed: number[];
}

/** What a phase module gets from bench/pipeline.ts: the running platform and where figures go. */
export interface PhaseContext {
  opts: Options;
  /** The bench database (the platform's). */
  t: TestDatabase;
  /** A connection to it for counters (not one of the platform's). */
  admin: pg.Client;
  /** The API's base URL, e.g. http://127.0.0.1:41234. */
  origin: string;
  /** The receiver's base URL (a path with a secret sent to it verifies and counts deliveries). */
  receiverBase: string;
  receiver: ReceiverProcess;
  /** The platform's processes (API, pipeline groups), label → process. */
  children: Array<{ label: string; p: Spawned }>;
  /** POSTs `n` events of the bench tenant (1: POST /api/v2/events, more: /events/batch). */
  publish(n: number): Promise<Published>;
  cpu: CpuMeter;
  /** Postgres CPU by client (backend → socket owner). */
  pgByClient: PgBackendMeter;
  /** A report section of the CPU per process group between two snapshots; adds `<label> cpu: …` figures. */
  cpuLines(a: CpuSnapshot, b: CpuSnapshot, label: string): string[];
  figures: Record<string, number>;
  section(title: string, lines: string[]): void;
  /** Monotonic windows of the phases, to cut the CPU profiles to them. */
  windows: Record<string, { fromUs: number; toUs: number }>;
  /** Deliveries the receiver should have by now: `add` more (accepted events × endpoints), returns the total. */
  expect(add: number): number;
}

/**
 * Waits until the receiver has every delivery expected so far; gives up (false) after `maxMs`, or
 * once nothing has arrived for `stallMs` (deliveries an earlier phase lost would otherwise hold
 * every later wait to its maximum).
 */
export async function caughtUp(ctx: PhaseContext, maxMs: number, stallMs = 5_000): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  let last = -1;
  let lastChange = performance.now();
  while (ctx.receiver.counts.delivered < ctx.expect(0)) {
    if (ctx.receiver.counts.delivered !== last) {
      last = ctx.receiver.counts.delivered;
      lastChange = performance.now();
    }
    if (performance.now() > deadline || performance.now() - lastChange > stallMs) return false;
    await sleep(50);
  }
  return true;
}
