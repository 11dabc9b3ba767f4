/**
 * `npm test`: checks formatting and lint (`biome ci`, which writes nothing), type-checks, then runs
 * every unit and integration test against real Postgres and NATS, then the fault suite's short form
 * (docs/chaos.md).
 * When DATABASE_URL / NATS_URL do not answer it starts local ones the same way `npm start` does,
 * and stops them afterwards.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { ensureNats, ensurePostgres } from "../services/cli/src/local-infra.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const config = loadConfig("cli");
const logger = createLogger({ service: "test", level: "info" });
const dataDir = join(root, ".data", "test");

function run(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  return result.status ?? 1;
}

// Formatting and lint first: they need no database, and a finding stops the run here.
if (run(process.execPath, [join(root, "node_modules/@biomejs/biome/bin/biome"), "ci", "--error-on-warnings", "."], process.env) !== 0) {
  process.stderr.write("\nformatting or lint findings: tests not run. `npx biome check --write` (or `npm run format`) fixes formatting and the safe lint fixes; the rest is by hand (biome.jsonc).\n");
  process.exit(1);
}

const postgres = await ensurePostgres(config.DATABASE_URL, dataDir, logger);
const nats = await ensureNats(config.NATS_URL, dataDir, logger);
const env = { ...process.env, DATABASE_URL: postgres.url, NATS_URL: nats.url, CUSTODY_LOG_LEVEL: "silent" };
const resultsFile = join(root, ".data", "test-results.json");
// The server code, then the browser console (its own compiler settings: DOM, JSX).
let status = run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--noEmit"], env);
if (status === 0) status = run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "console/tsconfig.json", "--noEmit"], env);
if (status === 0) {
  mkdirSync(dirname(resultsFile), { recursive: true });
  rmSync(resultsFile, { force: true });
  status = run(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)], env);
  // One plain closing line that any CI can read, whatever the runner prints above it.
  if (existsSync(resultsFile)) {
    const r = JSON.parse(readFileSync(resultsFile, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
    process.stdout.write(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped\n`);
  }
  // The fault suite's short form, alone on the machine (its bounds are timings), when the whole
  // suite was asked for: a filtered run (`npm test -- libs/merkle`) skips it.
  if (status === 0 && process.argv.length <= 2) {
    process.stdout.write("\nchaos --short (docs/chaos.md)\n");
    status = run(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "chaos/run.ts"), "--short"], env);
  }
} else process.stderr.write("type errors: tests not run\n");
await nats.stop();
await postgres.stop();
process.exit(status);
