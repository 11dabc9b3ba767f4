/**
 * Measurement helpers of the pipeline benchmark: CPU time per process from /proc (is the 2-core
 * machine pegged, and by whom?), a sampling view of what Postgres backends are doing
 * (pg_stat_statements is not preloaded here, so statements are timed by sampling
 * pg_stat_activity), Postgres counters, and a summary of V8 `.cpuprofile` files.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

// ---------------------------------------------------------------------------------------------
// CPU

/** Clock ticks per second of /proc (USER_HZ); 100 on every Linux this runs on. */
const HZ = 100;

/** A process's CPU so far, in µs (user + system), or undefined if it is gone. */
export function processCpuUs(pid: number): number | undefined {
  const p = procTicks(pid);
  return p === undefined ? undefined : (p.ticks * 1e6) / HZ;
}

/** A process's CPU ticks so far, under a key that a reused pid does not share (pid and start time). */
function procTicks(pid: number): { key: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised comm; utime and stime are fields 14 and 15, starttime 22 (1-based).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { key: `${pid}:${rest[19]}`, ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

function pidsNamed(comm: string | RegExp, cmdline?: RegExp): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      if (typeof comm === "string" ? name !== comm : !comm.test(name)) continue;
      if (cmdline !== undefined && !cmdline.test(readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " "))) continue;
      pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuSnapshot {
  at: number;
  /** label → process (pid:start time) → CPU ticks so far, or when last seen for one that has exited. */
  ticks: Record<string, Map<string, number>>;
  machine: { busy: number; total: number };
}

/** Pids, or processes by name (`/proc/<pid>/comm`: exactly, or matching) and optionally command line. */
export type CpuGroup = number[] | { comm: string | RegExp; cmdline?: RegExp };

/** How often the meter looks at every group's processes between snapshots. */
const TRACK_MS = 1_000;

/**
 * CPU use by named groups of processes: `groups` maps a label to pids (fixed) or to a process name
 * (`comm`, and optionally a pattern its command line must match — a Postgres backend's title names
 * its database), looked up at each snapshot: Postgres forks a backend per connection. What the
 * machine spent beyond the groups is reported as "other processes" (the machine is shared).
 *
 * Every process is also looked at each second, and one that has exited keeps the ticks it was last
 * seen with: a pool closes its idle connections, and their backends' CPU would otherwise vanish
 * from the group and show up as "other processes" (in the peer phase, where connections idle out
 * during the drain, about 0.08 ms of Custody's 0.27 ms of Postgres CPU per delivery did). At most its last second is missed,
 * and a connection closed for idleness spent it idle.
 */
export class CpuMeter {
  private readonly seen: Record<string, Map<string, number>> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly groups: Record<string, CpuGroup>) {
    for (const label of Object.keys(groups)) this.seen[label] = new Map();
    this.look();
    this.timer = setInterval(() => this.look(), TRACK_MS);
    this.timer.unref();
  }

  private look(): void {
    for (const [label, g] of Object.entries(this.groups)) {
      const seen = this.seen[label]!;
      for (const pid of Array.isArray(g) ? g : pidsNamed(g.comm, g.cmdline)) {
        const p = procTicks(pid);
        if (p !== undefined) seen.set(p.key, p.ticks);
      }
    }
  }

  snapshot(): CpuSnapshot {
    this.look();
    const ticks: Record<string, Map<string, number>> = {};
    for (const [label, seen] of Object.entries(this.seen)) ticks[label] = new Map(seen);
    return { at: performance.now(), ticks, machine: machineTicks() };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** % of one core per group between two snapshots, and the whole machine's busy % (of all cores). */
  static between(a: CpuSnapshot, b: CpuSnapshot): { perGroup: Record<string, number>; machineBusy: number } {
    const seconds = (b.at - a.at) / 1000;
    const perGroup: Record<string, number> = {};
    let ours = 0;
    for (const label of Object.keys(b.ticks)) {
      // Per process: one that started after `a` counts whole; one that exited before `b` up to when it was last seen.
      let ticks = 0;
      for (const [pid, t] of b.ticks[label]!) ticks += t - (a.ticks[label]?.get(pid) ?? 0);
      ours += ticks;
      perGroup[label] = Math.round((ticks / HZ / seconds) * 100);
    }
    perGroup["other processes (not this benchmark)"] = Math.max(0, Math.round(((b.machine.busy - a.machine.busy - ours) / HZ / seconds) * 100));
    const machineBusy = Math.round(((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * 100);
    return { perGroup, machineBusy };
  }

  /** CPU ms per group between two snapshots (not rounded), and the machine's busy ms over all cores. */
  static msBetween(a: CpuSnapshot, b: CpuSnapshot): { perGroup: Record<string, number>; machineBusyMs: number; wallMs: number } {
    const perGroup: Record<string, number> = {};
    for (const label of Object.keys(b.ticks)) {
      let ticks = 0;
      for (const [pid, t] of b.ticks[label]!) ticks += t - (a.ticks[label]?.get(pid) ?? 0);
      perGroup[label] = (ticks * 1000) / HZ;
    }
    return { perGroup, machineBusyMs: ((b.machine.busy - a.machine.busy) * 1000) / HZ, wallMs: b.at - a.at };
  }
}

// ---------------------------------------------------------------------------------------------
// Postgres

/** What the benchmark database's backends were doing, by sampling pg_stat_activity. */
export class PgActivitySampler {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  samples = 0;
  /** key → number of samples in which a backend was in that state. */
  readonly seen = new Map<string, number>();

  constructor(
    private readonly url: string,
    private readonly database: string,
    private readonly everyMs = 20,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url, application_name: "bench-sampler" });
    this.client.on("error", () => undefined); // dropped with the database if its phase throws (pipeline.ts, admin2)
    await this.client.connect();
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  private async sample(): Promise<void> {
    if (this.busy || this.client === undefined) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ app: string; state: string; wait: string | null; query: string; xact: boolean }>(
        `SELECT application_name AS app, state, wait_event_type || ':' || wait_event AS wait, left(query, 300) AS query,
                xact_start IS NOT NULL AS xact
         FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state IS NOT NULL`,
        [this.database],
      );
      this.samples++;
      for (const r of rows) {
        let key: string;
        if (r.state === "idle") continue;
        if (r.state === "active") key = `${r.app} | active | ${r.wait ?? "CPU"} | ${normaliseQuery(r.query)}`;
        else key = `${r.app} | ${r.state} (waiting for the client) | after: ${normaliseQuery(r.query)}`;
        this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
      }
    } catch {
      // a sample lost is a sample lost
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    await this.client?.end();
  }

  /** Rows of "average backends in this state" (samples in that state ÷ samples), largest first. */
  report(limit = 25): Array<{ key: string; avgBackends: number }> {
    return [...this.seen.entries()]
      .map(([key, n]) => ({ key, avgBackends: n / Math.max(1, this.samples) }))
      .sort((a, b) => b.avgBackends - a.avgBackends)
      .slice(0, limit);
  }
}

function normaliseQuery(q: string): string {
  return q
    .replace(/\s+/g, " ")
    .replace(/\$\d+(, ?\$\d+)*/g, "$…")
    .trim()
    .slice(0, 140);
}

export interface PgCounters {
  xact_commit: number;
  xact_rollback: number;
  tup_inserted: number;
  tup_updated: number;
  tup_fetched: number;
  wal_records: number;
  /** Full-page images: the first change to a page after a checkpoint logs the whole 8 KiB page. */
  wal_fpi: number;
  wal_bytes: number;
  wal_sync: number;
  wal_write: number;
}

export async function pgCounters(client: pg.Client, database: string): Promise<PgCounters> {
  const db = await client.query(`SELECT xact_commit::float8, xact_rollback::float8, tup_inserted::float8, tup_updated::float8, tup_fetched::float8 FROM pg_stat_database WHERE datname = $1`, [database]);
  const wal = await client.query(`SELECT wal_records::float8, wal_fpi::float8, wal_bytes::float8, wal_sync::float8, wal_write::float8 FROM pg_stat_wal`);
  return { ...db.rows[0], ...wal.rows[0] } as PgCounters;
}

/** Rows per table of the current database (live and dead tuples: vacuum is off on this machine's Postgres) and its size. */
export async function tableTuples(client: pg.Client | pg.Pool): Promise<Array<{ table: string; live: number; dead: number; bytes: number }>> {
  const { rows } = await client.query<{ table: string; live: number; dead: number; bytes: number }>(
    `SELECT relname AS table, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead, pg_total_relation_size(relid)::float8 AS bytes
     FROM pg_stat_user_tables ORDER BY n_dead_tup DESC, n_live_tup DESC, relname`,
  );
  return rows;
}

export function counterDelta(a: PgCounters, b: PgCounters): PgCounters {
  const out = {} as PgCounters;
  for (const k of Object.keys(b) as Array<keyof PgCounters>) out[k] = b[k] - a[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// V8 CPU profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time by function, largest first. */
  functions: Array<{ name: string; ms: number; pct: number }>;
  /** Self time by module: a package under node_modules, a repo directory, node internals or a V8 pseudo-node. */
  modules: Array<{ name: string; ms: number; pct: number }>;
}

function moduleOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = url.slice(nm + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const m = /\/(libs\/[^/]+|services\/[^/]+\/src\/[^/]+|bench|test)\//.exec(url);
  if (m) return m[1]!.replace(/\.ts$/, "");
  return url.replace(/^file:\/\//, "");
}

/** CLOCK_MONOTONIC in microseconds: the clock V8 stamps profile samples with, in every process. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per function and per module of one `.cpuprofile` (idle time excluded from the %),
 * counting only samples inside `window` (monotonicUs() readings) when given.
 */
export function summariseProfile(file: string, window?: { fromUs: number; toUs: number }, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (t < window.fromUs || t > window.toUs)) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    busy += us;
    const short = url
      .replace(/^file:\/\//, "")
      .replace(/^.*\/(node_modules\/)/, "$1")
      .replace(/^.*\/main\//, "");
    const name = `${functionName || "(anonymous)"} ${short === "" ? "" : `${short}:${lineNumber + 1}`}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + us);
    const m = moduleOf(url, functionName);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((us / Math.max(1, busy)) * 1000) / 10 }));
  return { file, totalMs: Math.round(busy / 1000), functions: rank(fn), modules: rank(mod) };
}

// ---------------------------------------------------------------------------------------------
// Postgres CPU by client

export interface BackendSnapshot {
  at: number;
  /** backend pid → who it serves and its CPU ticks so far. */
  backends: Map<number, { label: string; ticks: number }>;
}

/** Local TCP port → pid of the process owning the socket, for connections to `serverPort`. */
function socketOwners(serverPort: number): Map<number, number> {
  const owners = new Map<number, number>();
  let out = "";
  try {
    out = execFileSync("ss", ["-tnpH", "state", "established", `( dport = :${serverPort} )`], { encoding: "utf8" });
  } catch {
    return owners;
  }
  for (const line of out.split("\n")) {
    const m = /\S+:(\d+)\s+\S+:\d+\s+users:\(\("[^"]*",pid=(\d+)/.exec(line);
    if (m) owners.set(Number(m[1]), Number(m[2]));
  }
  return owners;
}

/**
 * Postgres CPU split by the process each backend serves (its client socket's owner, found with
 * `ss`) and the connection's application_name: which part of the platform makes Postgres work.
 */
export class PgBackendMeter {
  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
    private readonly serverPort: number,
    /** pid of a process of ours → its label. */
    private readonly owners: ReadonlyMap<number, string>,
  ) {}

  async snapshot(): Promise<BackendSnapshot> {
    const { rows } = await this.client.query<{ pid: number; port: number | null; app: string }>(
      `SELECT pid, client_port AS port, application_name AS app FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
      [this.database],
    );
    const sockets = socketOwners(this.serverPort);
    const backends = new Map<number, { label: string; ticks: number }>();
    for (const r of rows) {
      const owner = r.port === null ? undefined : sockets.get(r.port);
      const who = owner === undefined ? "?" : (this.owners.get(owner) ?? `pid ${owner}`);
      backends.set(r.pid, { label: `${who} · ${r.app || "(no name)"}`, ticks: procTicks(r.pid)?.ticks ?? 0 });
    }
    return { at: performance.now(), backends };
  }

  private last: BackendSnapshot | undefined;
  private from = 0;
  private readonly acc = new Map<string, number>();
  /** Every backend pid seen since `start` → its label. */
  readonly labels = new Map<number, string>();

  /** Starts accumulating; call `tick` often (each second) so backends that come and go are counted. */
  async start(): Promise<void> {
    this.acc.clear();
    this.last = await this.snapshot();
    this.from = this.last.at;
    for (const [pid, b] of this.last.backends) this.labels.set(pid, b.label);
  }

  async tick(): Promise<void> {
    if (this.last === undefined) return;
    const cur = await this.snapshot();
    for (const [pid, x] of cur.backends) {
      this.labels.set(pid, x.label);
      // A backend new since the last tick started within it: all its time counts.
      this.acc.set(x.label, (this.acc.get(x.label) ?? 0) + x.ticks - (this.last.backends.get(pid)?.ticks ?? 0));
    }
    this.last = cur;
  }

  /** % of one core per label from `start` to the last `tick`. */
  result(): Array<{ label: string; pct: number }> {
    const seconds = ((this.last?.at ?? this.from) - this.from) / 1000;
    return [...this.acc.entries()].map(([label, ticks]) => ({ label, pct: Math.round((ticks / HZ / Math.max(1e-9, seconds)) * 100) })).sort((x, y) => y.pct - x.pct);
  }

  /** % of one core per label between two snapshots (a backend that exited in between is missed). */
  static between(a: BackendSnapshot, b: BackendSnapshot): Array<{ label: string; pct: number }> {
    const seconds = (b.at - a.at) / 1000;
    const byLabel = new Map<string, number>();
    for (const [pid, x] of b.backends) {
      const ticks = x.ticks - (a.backends.get(pid)?.ticks ?? 0);
      byLabel.set(x.label, (byLabel.get(x.label) ?? 0) + ticks);
    }
    return [...byLabel.entries()].map(([label, ticks]) => ({ label, pct: Math.round((ticks / HZ / seconds) * 100) })).sort((x, y) => y.pct - x.pct);
  }
}

// ---------------------------------------------------------------------------------------------
// Postgres statements from the server log

export interface StatementStats {
  /** label (backend's client · application) → statements (executes and simple queries). */
  perClient: Map<string, number>;
  /** "label | normalised statement" → count and server-side ms (parse + bind + execute). */
  perStatement: Map<string, { count: number; ms: number }>;
}

/**
 * Counts and times this database's statements in a slice of the Postgres server log, written with
 * `log_min_duration_statement = 0` (set on the benchmark database only, by `--pg-log`): each
 * extended-protocol step logs `duration: N ms  parse|bind|execute <unnamed>: SQL`, a simple query
 * `duration: N ms  statement: SQL`. A round trip is one execute or one simple statement.
 */
export function statementsFromLog(text: string, database: string, labelOf: (pid: number) => string): StatementStats {
  const perClient = new Map<string, number>();
  const perStatement = new Map<string, { count: number; ms: number }>();
  const re = new RegExp(`^\\S+ \\S+ \\S+ \\[(\\d+)\\] \\S+@${database} LOG:  duration: ([\\d.]+) ms  (parse|bind|execute|statement)(?: [^:]*)?: (.*)$`);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (!m) continue;
    const label = labelOf(Number(m[1]));
    const step = m[3]!;
    // A statement written on several lines continues on lines that start with a tab.
    let query = m[4]!;
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("\t") && query.length < 300; j++) query += ` ${lines[j]!.trim()}`;
    const key = `${label} | ${normaliseQuery(query)}`;
    const entry = perStatement.get(key) ?? { count: 0, ms: 0 };
    entry.ms += Number(m[2]);
    if (step === "execute" || step === "statement") {
      entry.count++;
      perClient.set(label, (perClient.get(label) ?? 0) + 1);
    }
    perStatement.set(key, entry);
  }
  return { perClient, perStatement };
}
