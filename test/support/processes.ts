import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const TSX = require.resolve("tsx");
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a TypeScript entry point of this repo as its own process, as `npm start` does. `nodeArgs`
 * go to node before the entry point (e.g. `--cpu-prof` for the benchmarks).
 */
export function spawnTs(entry: string, args: string[], env: Record<string, string>, nodeArgs: readonly string[] = []): Spawned {
  const child = spawn(process.execPath, [...nodeArgs, "--import", TSX, `${ROOT}${entry}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, CUSTODY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

export async function runTs(entry: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; stdout: string }> {
  const p = spawnTs(entry, args, env);
  let stdout = "";
  p.child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  const { code } = await p.exited;
  return { code, output: p.output(), stdout };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
