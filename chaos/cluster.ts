/**
 * A 3-node NATS cluster of the suite's own on loopback: each node its own client port, route port
 * and JetStream store under `<dir>/nats-cluster/<node>`, routes to the other two. Nodes are
 * SIGKILLed and restarted one at a time on the same store, as a machine loss looks to the others.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import { freePort } from "../bench/pipeline-support.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NATS_SERVER = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].find((p) => existsSync(p)) ?? "nats-server";

export interface ClusterNode {
  name: string;
  port: number;
  routePort: number;
  storeDir: string;
  conf: string;
  url: string;
}

/** nats-servers whose store is under `root`: left by a run that was killed before it could stop them. */
function strayPids(root: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.split("\0")[0]?.endsWith("nats-server") && cmdline.includes(root)) out.push(Number(entry));
    } catch {}
  }
  return out;
}

export class NatsCluster {
  private readonly children = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, string>();

  private constructor(
    readonly nodes: readonly ClusterNode[],
    private readonly root: string,
  ) {}

  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  static async create(dir: string, size = 3): Promise<NatsCluster> {
    const root = join(dir, "nats-cluster");
    for (const pid of strayPids(root)) process.kill(pid, "SIGKILL");
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const port = await freePort();
      const name = `n${i}`;
      nodes.push({ name, port, routePort: await freePort(), storeDir: join(root, name), conf: join(root, `${name}.conf`), url: `nats://127.0.0.1:${port}` });
    }
    const routes = nodes.map((n) => `nats://127.0.0.1:${n.routePort}`);
    for (const n of nodes) {
      await mkdir(n.storeDir, { recursive: true });
      await writeFile(
        n.conf,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.port}`,
          `jetstream { store_dir: "${n.storeDir}", max_memory_store: 64MB, max_file_store: 2GB }`,
          `cluster { name: chaos, listen: 127.0.0.1:${n.routePort}, routes: [${routes.filter((r) => !r.endsWith(`:${n.routePort}`)).join(", ")}] }`,
          "",
        ].join("\n"),
      );
    }
    const cluster = new NatsCluster(nodes, root);
    for (const n of nodes) cluster.startNode(n.name);
    await cluster.awaitFormed(60_000);
    return cluster;
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  startNode(name: string): void {
    const n = this.node(name);
    const child = spawn(NATS_SERVER, ["-c", n.conf], { stdio: ["ignore", "ignore", "pipe"] });
    this.logs.set(name, "");
    child.stderr!.on("data", (c: Buffer) => this.logs.set(name, ((this.logs.get(name) ?? "") + c.toString()).slice(-4_000)));
    this.children.set(name, child);
  }

  log(name: string): string {
    return this.logs.get(name) ?? "";
  }

  alive(name: string): boolean {
    const c = this.children.get(name);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** SIGKILL: no flush, no leadership hand-off, no goodbye to clients or peers. */
  async killNode(name: string): Promise<void> {
    const c = this.children.get(name);
    if (c === undefined || !this.alive(name)) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  }

  /** A connection to the given nodes only (e.g. the survivors, to watch an election from outside it). */
  connectTo(names: readonly string[]): Promise<NatsConnection> {
    return connect({ servers: names.map((n) => this.node(n).url), name: "chaos-cluster-watch", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  }

  /**
   * Waits until every node is routed and JetStream can place a replica on each: an R<size> stream
   * can be created (and is removed again). Before that a platform process would be refused its R3 stream.
   */
  async awaitFormed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      for (const n of this.nodes) if (!this.alive(n.name)) throw new Error(`nats-server ${n.name} exited:\n${this.log(n.name)}`);
      let nc: NatsConnection | undefined;
      try {
        nc = await connect({ servers: this.nodes.map((n) => n.url), name: "chaos-cluster-probe", timeout: 2_000 });
        const jsm = await nc.jetstreamManager({ timeout: 2_000 });
        const probe = `PROBE_${Date.now()}`;
        await jsm.streams.add({ name: probe, subjects: [`chaos-probe.${Date.now()}`], num_replicas: this.nodes.length });
        await jsm.streams.delete(probe);
        return;
      } catch (err) {
        last = (err as Error).message;
      } finally {
        await nc?.close().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`the NATS cluster did not form within ${timeoutMs} ms: ${last}\n${this.nodes.map((n) => `${n.name}: ${this.log(n.name).slice(-800)}`).join("\n")}`);
      await sleep(250);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.keys()].map(async (name) => {
        const c = this.children.get(name)!;
        if (!this.alive(name)) return;
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        if (!(await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]))) {
          c.kill("SIGKILL");
          await exited;
        }
      }),
    );
    for (const pid of strayPids(this.root)) process.kill(pid, "SIGKILL");
  }
}
