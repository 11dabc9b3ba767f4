import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { Logger } from "@custody/log";

export interface ChildSpec {
  name: string;
  /** Path of the TypeScript entry point, run through tsx. */
  entry: string;
  env: NodeJS.ProcessEnv;
}

const require = createRequire(import.meta.url);
const TSX_LOADER = require.resolve("tsx");
/**
 * V8 flags every service runs with, under `npm start` and the benchmark alike.
 * - Semi-spaces of 64 MB (V8's default is 16): the pipeline and the API allocate per message and per
 *   request, and a young generation four times larger scavenges a quarter as often and promotes less
 *   of what dies young — 4–5 % of a core less for the pipeline at 1,000 events/s (docs/benchmarks.md,
 *   "A larger young generation"), for up to about 100 MB more memory per process (the new space is
 *   two semi-spaces).
 * - Earlier tier-up: baseline (Sparkplug) code from a function's first call instead of interpreting
 *   it for a while, and optimisation after a quarter of the default interrupt budget. At 100 events/s
 *   the hot path's functions run once or twice per event, and with the defaults the API was still
 *   optimising them 40 s after start (TurboFan a sixth of its CPU): platform CPU at that rate fell
 *   from 96 % to 86 % of a core (means of five alternated pairs on freshly started platforms) and
 *   did not change once warm (docs/benchmarks.md, "Earlier tier-up").
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64", "--always-sparkplug", "--interrupt-budget=16896"];
const MAX_QUICK_CRASHES = 5;
const QUICK_CRASH_MS = 5_000;

/**
 * Keeps each service running: one that dies is restarted with a growing delay, and one that keeps
 * dying at start makes the whole platform stop with its name, rather than flap forever.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly onFatal: (reason: string) => void,
  ) {}

  start(spec: ChildSpec, quickCrashes = 0): void {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, "--import", TSX_LOADER, spec.entry], { env: spec.env, stdio: "inherit" });
    this.children.set(spec.name, child);
    child.once("exit", (code, signal) => {
      this.children.delete(spec.name);
      if (this.stopping) return;
      const crashes = Date.now() - startedAt < QUICK_CRASH_MS ? quickCrashes + 1 : 0;
      if (crashes >= MAX_QUICK_CRASHES) {
        this.onFatal(`${spec.name} exited ${crashes} times in a row right after starting (last: code ${code}, signal ${signal})`);
        return;
      }
      const delay = Math.min(30_000, 500 * 2 ** crashes);
      this.logger.warn({ service: spec.name, code, signal, restartInMs: delay }, "service exited; restarting");
      setTimeout(() => {
        if (!this.stopping) this.start(spec, crashes);
      }, delay).unref();
    });
  }

  /** SIGTERM to every child, then SIGKILL to any still running after the grace period. */
  async stopAll(graceMs: number): Promise<void> {
    this.stopping = true;
    const waits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    );
    await Promise.all(waits);
  }
}
