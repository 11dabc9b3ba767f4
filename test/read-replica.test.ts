import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createDb, ensureDatabase, migrate, sql, type Db } from "@custody/db";
import type { HttpApp } from "@custody/http";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { generateSigner } from "@custody/note";
import { createTenant } from "@custody/tenancy";
import { Sequencer } from "../services/pipeline/src/sequencer/sequencer.js";
import { buildProofsApp } from "../services/proofs/src/app.js";

/**
 * The proof routes on a real streaming replica (DATABASE_READ_URL). The machine's shared cluster
 * allows no replication connections, so the test makes a primary of its own (initdb, on a free
 * port), a replica of it with pg_basebackup, and starts both with pg_ctl; as root, as the
 * `postgres` OS user, since Postgres refuses to run as root.
 */
const BIN = "/usr/lib/postgresql/15/bin";
const tools = ["initdb", "pg_ctl", "pg_basebackup"].map((t) => join(BIN, t));
const owner = (() => {
  if (process.getuid?.() !== 0) return {};
  const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  return id.status === 0 && gid.status === 0 ? { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
})();
const skipReason = tools.some((t) => !existsSync(t))
  ? `PostgreSQL 15 server binaries (${tools.join(", ")}) are not installed`
  : owner === undefined
    ? "running as root and there is no `postgres` OS user to run the test's clusters as"
    : undefined;
if (skipReason !== undefined) console.warn(`read-replica test skipped: ${skipReason}`);

const logger = createLogger({ service: "test", level: "silent", pretty: false });
const signer = generateSigner("custody.test/log");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...owner, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", reject);
    child.once("close", (status) => (status === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")}: exit ${status}\n${output.slice(-2_000)}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Head {
  tree: number;
  checkpoint: number;
}
async function headOf(db: Db): Promise<Head> {
  const h = await db.selectFrom("ledger_head").select(["tree_size", "checkpoint_size"]).executeTakeFirstOrThrow();
  return { tree: Number(h.tree_size), checkpoint: Number(h.checkpoint_size) };
}

describe.skipIf(skipReason !== undefined)("proof routes on a streaming read replica", () => {
  const dir = mkdtempSync(join(tmpdir(), "custody-replica-"));
  const primaryDir = join(dir, "primary");
  const replicaDir = join(dir, "replica");
  const started: string[] = [];
  let primary: Db;
  let replica: Db;
  let onPrimary: HttpApp;
  let onReplica: HttpApp;
  let sequencer: Sequencer;
  let sequencing: Promise<void>;
  let tenantId = "";
  let auth: Record<string, string> = {};

  const pgCtlStart = async (dataDir: string, port: number) => {
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=30 -c shared_buffers=16MB`;
    await run(join(BIN, "pg_ctl"), ["start", "-w", "-t", "60", "-D", dataDir, "-l", `${dataDir}.log`, "-o", options]);
    started.push(dataDir);
  };
  const append = async (n: number) =>
    appendEntries(
      primary,
      Array.from({ length: n }, (_, i) => ({ tenantId, document: { v: 1 as const, kind: "event" as const, n: i, r: randomBytes(6).toString("hex") } })),
    );
  const get = async (app: HttpApp, url: string) => {
    const res = await app.inject({ url, headers: auth });
    return { status: res.statusCode, retryAfter: res.headers["retry-after"], body: String(res.headers["content-type"]).includes("json") ? res.json() : res.body };
  };

  beforeAll(async () => {
    if (owner?.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
    await run(join(BIN, "initdb"), ["-D", primaryDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    const primaryPort = await freePort();
    await pgCtlStart(primaryDir, primaryPort);
    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/custody`;
    await ensureDatabase(primaryUrl);
    await migrate(primaryUrl);
    primary = createDb({ url: primaryUrl, poolMax: 4, statementTimeoutMs: 30_000, applicationName: "test-primary" }).db;
    const tenant = await createTenant(primary, "Replica");
    tenantId = tenant.tenantId;
    auth = { authorization: `Bearer ${tenant.apiKey}` };
    sequencer = new Sequencer({ databaseUrl: primaryUrl, logger, signer: async () => signer, batchSize: 64, pollMs: 5, checkpointIntervalMs: 20, lockRetryMs: 20 });
    sequencing = sequencer.run();
    await append(37);
    await waitFor("the first checkpoint", async () => (await headOf(primary)).checkpoint === 37);

    await run(join(BIN, "pg_basebackup"), ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres", "-D", replicaDir, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]);
    const replicaPort = await freePort();
    await pgCtlStart(replicaDir, replicaPort);
    replica = createDb({ url: `postgres://postgres@127.0.0.1:${replicaPort}/custody`, poolMax: 4, statementTimeoutMs: 30_000, applicationName: "test-replica" }).db;
    await waitFor("the replica to stream", async () => (await sql<{ r: boolean }>`SELECT pg_is_in_recovery() AS r`.execute(replica)).rows[0]!.r);

    const config = loadConfig("proofs", {});
    onPrimary = await buildProofsApp({ db: primary, config, logger, readiness: {} });
    onReplica = await buildProofsApp({ db: primary, readDb: replica, config, logger, readiness: {} });
  }, 60_000);

  afterAll(async () => {
    sequencer?.stop();
    await sequencing?.catch(() => undefined);
    await onPrimary?.close();
    await onReplica?.close();
    await replica?.destroy();
    await primary?.destroy();
    for (const dataDir of started.reverse()) await run(join(BIN, "pg_ctl"), ["stop", "-w", "-m", "immediate", "-D", dataDir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every ledger read the replica serves, for a tree of `size` leaves and a leaf `leaf` in it. */
  const urls = async (size: number, leaf: number) => {
    const entry = (await get(onPrimary, `/api/v2/proofs/entries/${leaf}`)).body as { leafHash: string };
    return [
      "/api/v2/proofs/checkpoint",
      `/api/v2/proofs/inclusion?leafIndex=${leaf}&treeSize=${size}`,
      `/api/v2/proofs/inclusion?leafIndex=${leaf}`,
      `/api/v2/proofs/inclusion?leafHash=${entry.leafHash}`,
      `/api/v2/proofs/consistency?first=1&second=${size}`,
      `/api/v2/proofs/consistency?first=${Math.max(1, leaf)}&second=${size}`,
      `/api/v2/proofs/entries/${leaf}`,
      `/api/v2/proofs/entries/${leaf}/tlog-proof`,
    ];
  };

  it("serves, from the replica, exactly what the primary serves", async () => {
    await waitFor("the replica to catch up", async () => (await headOf(replica)).checkpoint === 37);
    for (const url of await urls(37, 36)) {
      const [a, b] = [await get(onPrimary, url), await get(onReplica, url)];
      expect(a.status, url).toBe(200);
      expect(b, url).toEqual(a);
    }
  });

  it("answers REPLICA_BEHIND, never another size's proof, while replay is paused; serves once it resumes", async () => {
    await sql`SELECT pg_wal_replay_pause()`.execute(replica);
    await waitFor("replay to pause", async () => (await sql<{ s: string }>`SELECT pg_get_wal_replay_pause_state() AS s`.execute(replica)).rows[0]!.s === "paused");
    const before = await headOf(replica);
    expect(before).toEqual({ tree: 37, checkpoint: 37 });
    await append(5);
    await waitFor("the primary's checkpoint of 42", async () => (await headOf(primary)).checkpoint === 42);
    expect(await headOf(replica)).toEqual(before);

    const fresh = await urls(42, 40);
    const expected = [];
    for (const url of fresh) expected.push(await get(onPrimary, url));
    expect(expected.map((r) => r.status)).toEqual(fresh.map(() => 200));

    // The newest checkpoint the replica has is an older one, still a true signed checkpoint.
    const checkpoint = await get(onReplica, fresh[0]!);
    const old = await primary.selectFrom("ledger_checkpoints").select("note").where("tree_size", "=", "37").executeTakeFirstOrThrow();
    expect(checkpoint).toEqual({ status: 200, retryAfter: undefined, body: old.note });
    // Everything that needs size 42, leaf 40 or a checkpoint covering it says the replica is behind.
    for (const url of fresh.slice(1)) {
      const res = await get(onReplica, url);
      expect([res.status, res.retryAfter, (res.body as { error?: { code: string } }).error?.code], url).toEqual([503, "1", "REPLICA_BEHIND"]);
    }
    // What the replica has is still served, and what nobody has is still not found.
    const older = `/api/v2/proofs/inclusion?leafIndex=3&treeSize=37`;
    expect(await get(onReplica, older)).toEqual(await get(onPrimary, older));
    for (const url of ["/api/v2/proofs/consistency?first=1&second=43", `/api/v2/proofs/inclusion?leafHash=${"ab".repeat(32)}`, "/api/v2/proofs/entries/42"]) {
      const [a, b] = [await get(onPrimary, url), await get(onReplica, url)];
      expect(a.status, url).toBe(404);
      expect(b, url).toEqual(a);
    }

    await sql`SELECT pg_wal_replay_resume()`.execute(replica);
    await waitFor("the replica to replay checkpoint 42", async () => (await headOf(replica)).checkpoint === 42);
    for (const [i, url] of fresh.entries()) expect(await get(onReplica, url), url).toEqual(expected[i]);
  });

  it("documents REPLICA_BEHIND in the OpenAPI responses of exactly the routes that read the replica", async () => {
    const doc = (await onReplica.inject({ url: "/openapi.json" })).json() as { paths: Record<string, { get?: { responses: Record<string, { description?: string }> } }> };
    const mentions = (path: string) => doc.paths[path]?.get?.responses["503"]?.description?.includes("REPLICA_BEHIND") ?? false;
    for (const path of ["/api/v2/proofs/checkpoint", "/api/v2/proofs/inclusion", "/api/v2/proofs/consistency", "/api/v2/proofs/entries/{leafIndex}", "/api/v2/proofs/entries/{leafIndex}/tlog-proof"]) {
      expect(mentions(path), path).toBe(true);
    }
    for (const path of ["/api/v2/proofs/keys", "/api/v2/webhooks/events/{evtId}/chain-of-custody"]) expect(mentions(path), path).toBe(false);
  });
});
