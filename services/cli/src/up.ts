import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@custody/config";
import { createDb, ensureDatabase, migrate, type Db } from "@custody/db";
import { createLogger } from "@custody/log";
import { onShutdown } from "@custody/runtime";
import { authenticate, createTenant } from "@custody/tenancy";
import { parseFlags } from "./commands.js";
import { ensureNats, ensurePostgres, type LocalService } from "./local-infra.js";
import { Supervisor } from "./supervisor.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SERVICES = ["api", "proofs", "pipeline"] as const;

interface DefaultTenant {
  tenantId: string;
  apiKey: string;
}

/** A development master key kept in `.data/`, so `npm start` encrypts secrets without any setup. */
async function developmentMasterKey(dataDir: string): Promise<string> {
  const file = join(dataDir, "master.key");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const key = randomBytes(32).toString("base64");
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** The default tenant's key is kept in `.data/` (the database has only its hash) so each start can print it. */
async function defaultTenant(db: Db, dataDir: string): Promise<DefaultTenant> {
  const file = join(dataDir, "default-tenant.json");
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, "utf8")) as DefaultTenant;
    try {
      await authenticate(db, saved.apiKey);
      return saved;
    } catch {
      // The database was reset or the key revoked: make a new default tenant below.
    }
  }
  const created = await createTenant(db, "default");
  const saved = { tenantId: created.tenantId, apiKey: created.apiKey };
  await writeFile(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return saved;
}

function buildConsole(logger: { info(o: object, m: string): void; warn(o: object, m: string): void }): void {
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(ROOT, "console", "build.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (result.status === 0) logger.info({ ms: Date.now() - started, built: result.stdout.trim() }, "console built");
  // The API still starts: /console then answers 503 CONSOLE_NOT_BUILT saying how to build it.
  else logger.warn({ status: result.status, stderr: (result.stderr ?? "").slice(-2000) }, "building the console failed");
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function up(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { "data-dir": { type: "string", default: join(ROOT, ".data") } });
  const config = loadConfig("cli");
  const logger = createLogger({ service: "custody", level: config.CUSTODY_LOG_LEVEL });
  const dataDir = values["data-dir"]!;
  await mkdir(dataDir, { recursive: true });

  const started: LocalService[] = [];
  const supervisor = new Supervisor(logger, (reason) => {
    logger.error(reason);
    void shutdown(1);
  });
  let shuttingDown = false;
  async function shutdown(code: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    await supervisor.stopAll(config.CUSTODY_SHUTDOWN_GRACE_MS);
    for (const s of started.reverse()) await s.stop().catch((err: unknown) => logger.warn({ err }, "stopping a local dependency failed"));
    process.exit(code);
  }
  onShutdown(logger, config.CUSTODY_SHUTDOWN_GRACE_MS * 2, () => shutdown(0));

  const postgres = await ensurePostgres(config.DATABASE_URL, dataDir, logger);
  started.push(postgres);
  const nats = await ensureNats(config.NATS_URL, dataDir, logger);
  started.push(nats);

  await ensureDatabase(postgres.url);
  const report = await migrate(postgres.url);
  if (report.applied.length > 0) logger.info({ applied: report.applied }, "migrated");

  const { db } = createDb({ url: postgres.url, poolMax: 2, statementTimeoutMs: 30_000, applicationName: "custody-up" });
  const tenant = await defaultTenant(db, dataDir);
  await db.destroy();

  const masterKey = config.CUSTODY_MASTER_KEY ?? (config.CUSTODY_ENV === "production" ? undefined : await developmentMasterKey(dataDir));
  const env: NodeJS.ProcessEnv = {
    // Under `npm start` webhooks may target this machine, so a local receiver works out of the box;
    // an explicit setting in the environment wins.
    CUSTODY_ALLOW_LOOPBACK_TARGETS: config.CUSTODY_ENV === "production" ? "false" : "true",
    ...process.env,
    DATABASE_URL: postgres.url,
    NATS_URL: nats.url,
    CUSTODY_MASTER_KEY: masterKey,
  };
  // The operator console the API serves at /console: built from source on every start (a second or
  // two), never a file edited by hand or committed.
  buildConsole(logger);
  for (const name of SERVICES) supervisor.start({ name, entry: join(ROOT, "services", name, "src", "main.ts"), env });

  const apiUrl = `http://${config.CUSTODY_API_HOST}:${config.CUSTODY_API_PORT}`;
  const proofsUrl = `http://${config.CUSTODY_PROOFS_HOST}:${config.CUSTODY_PROOFS_PORT}`;
  await Promise.all([waitForHealth(`${apiUrl}/healthz`, 60_000), waitForHealth(`${proofsUrl}/healthz`, 60_000)]);

  process.stdout.write(
    [
      "",
      "Custody is running.",
      `  API            ${apiUrl}   (every /api/v2 route; reference: ${apiUrl}/docs)`,
      `  Console        ${apiUrl}/console   (sign in with the API key below)`,
      `  Proof service  ${proofsUrl}   (the proof routes alone)`,
      `  Postgres       ${postgres.origin}`,
      `  NATS           ${nats.origin}`,
      `  Tenant         ${tenant.tenantId} (default)`,
      `  API key        ${tenant.apiKey}`,
      "",
      `  curl -s ${apiUrl}/readyz`,
      "",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
  return new Promise<number>(() => undefined);
}
