/**
 * The platform's processes as `custody up` runs them — the API, the proof service and one pipeline
 * process with every stage — started, SIGKILLed and restarted by the suite. Every exit the suite
 * did not cause is kept with the end of the process's output: a process must ride out every fault
 * without exiting. A scenario may run more of a kind (`api:b`, `pipeline:b`: instances with a
 * suffix, an API on a port of its own) and give an instance environment of its own.
 */
import { randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import { SERVICE_NODE_FLAGS } from "../services/cli/src/supervisor.js";
import { spawnTs, type Spawned } from "../test/support/processes.js";
import { freePort } from "../bench/pipeline-support.js";

export const PROCESSES = ["api", "proofs", "pipeline"] as const;
export type ProcessName = (typeof PROCESSES)[number];
/** A process, or a further instance of one: `<name>:<suffix>`. */
export type Instance = ProcessName | `${ProcessName}:${string}`;
const kindOf = (instance: Instance) => instance.split(":")[0] as ProcessName;

const ENTRY: Record<ProcessName, string> = {
  api: "services/api/src/main.ts",
  proofs: "services/proofs/src/main.ts",
  pipeline: "services/pipeline/src/main.ts",
};

export const LOG_ORIGIN = "chaos.custody.test/log";
export const NATS_PREFIX = "chaos";
/** How long JetStream waits before handing a dead process's messages to another (production default: 30 s). */
export const ACK_WAIT_MS = 10_000;

export interface Exit {
  name: Instance;
  pid: number;
  code: number | null;
  signal: string | null;
  at: number;
  output: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Platform {
  readonly apiOrigin: string;
  readonly proofsOrigin: string;
  /** Exits nobody asked for. */
  readonly exits: Exit[] = [];
  readonly masterKey = randomBytes(32).toString("base64");
  private readonly running = new Map<Instance, Spawned>();
  /** Environment an instance gets on top of the platform's, kept across its restarts. */
  private readonly overrides = new Map<Instance, Record<string, string>>();
  /** HTTP ports of further API and proof-service instances. */
  private readonly extraPorts = new Map<Instance, number>();
  private readonly killed = new WeakSet<Spawned>();
  private readonly agent = new Agent({ connections: 8, headersTimeout: 10_000, bodyTimeout: 10_000 });
  private stopping = false;

  private constructor(
    private readonly env: Record<string, string>,
    private readonly ports: { api: number; proofs: number },
  ) {
    this.apiOrigin = `http://127.0.0.1:${ports.api}`;
    this.proofsOrigin = `http://127.0.0.1:${ports.proofs}`;
  }

  static async create(databaseUrl: string, natsUrl: string): Promise<Platform> {
    const ports = { api: await freePort(), proofs: await freePort() };
    return new Platform(
      {
        DATABASE_URL: databaseUrl,
        NATS_URL: natsUrl,
        CUSTODY_NATS_PREFIX: NATS_PREFIX,
        CUSTODY_LOG_ORIGIN: LOG_ORIGIN,
        CUSTODY_ALLOW_LOOPBACK_TARGETS: "true",
        CUSTODY_STAGE_ACK_WAIT_MS: String(ACK_WAIT_MS),
      },
      ports,
    );
  }

  /** The environment every process and `custody` command of this platform gets. */
  envFor(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.env, CUSTODY_MASTER_KEY: this.masterKey, ...extra };
  }

  /** Environment `instance` gets from its next start on (replaces what an earlier call gave it). */
  configure(instance: Instance, env: Record<string, string>): void {
    this.overrides.set(instance, env);
  }

  private port(instance: Instance): number {
    const kind = kindOf(instance);
    return instance === kind ? this.ports[kind as "api" | "proofs"] : this.extraPorts.get(instance)!;
  }

  /** The base URL of an API or proof-service instance. */
  origin(instance: Instance): string {
    return `http://127.0.0.1:${this.port(instance)}`;
  }

  private spawn(name: Instance): Spawned {
    const kind = kindOf(name);
    const extra: Record<string, string> =
      kind === "api"
        ? { CUSTODY_API_HOST: "127.0.0.1", CUSTODY_API_PORT: String(this.port(name)) }
        : kind === "proofs"
          ? { CUSTODY_PROOFS_HOST: "127.0.0.1", CUSTODY_PROOFS_PORT: String(this.port(name)) }
          : // info: the pipeline says "pipeline started" once every stage runs.
            { CUSTODY_LOG_LEVEL: "info" };
    const p = spawnTs(ENTRY[kind], [], this.envFor({ ...extra, ...this.overrides.get(name) }), SERVICE_NODE_FLAGS);
    this.running.set(name, p);
    void p.exited.then(({ code, signal }) => {
      if (this.killed.has(p) || this.stopping) return;
      this.exits.push({ name, pid: p.child.pid ?? 0, code, signal, at: Date.now(), output: p.output().slice(-4_000) });
    });
    return p;
  }

  /** Starts a process and waits until it serves (HTTP: /healthz answers; pipeline: every stage runs). */
  async start(name: Instance, timeoutMs = 90_000): Promise<void> {
    if (name !== kindOf(name) && kindOf(name) !== "pipeline" && !this.extraPorts.has(name)) this.extraPorts.set(name, await freePort());
    const p = this.spawn(name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${name} exited while starting:\n${p.output().slice(-3_000)}`);
      if (await this.serving(name, p)) return;
      if (Date.now() > deadline) throw new Error(`${name} did not start within ${timeoutMs} ms:\n${p.output().slice(-3_000)}`);
      await sleep(100);
    }
  }

  private async serving(name: Instance, p: Spawned): Promise<boolean> {
    if (kindOf(name) === "pipeline") return p.output().includes('"msg":"pipeline started"');
    return request(`${this.origin(name)}/healthz`, { dispatcher: this.agent }).then(
      async (r) => {
        await r.body.dump();
        return r.statusCode === 200;
      },
      () => false,
    );
  }

  pid(name: Instance): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  alive(name: Instance): boolean {
    const p = this.running.get(name);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  output(name: Instance): string {
    return this.running.get(name)?.output() ?? "";
  }

  /** SIGKILL (an exit the suite caused, not counted). */
  async kill(name: Instance): Promise<void> {
    const p = this.running.get(name);
    if (p === undefined || !this.alive(name)) return;
    this.killed.add(p);
    p.child.kill("SIGKILL");
    await p.exited;
  }

  /** Stops a further instance (SIGTERM, SIGKILL after 20 s) and forgets it, overrides included. */
  async remove(name: Instance): Promise<void> {
    const p = this.running.get(name);
    if (p !== undefined) {
      this.killed.add(p);
      await terminate(p);
    }
    this.running.delete(name);
    this.overrides.delete(name);
  }

  /** GET on the API or the proof service: the status, or null without an answer. */
  async probe(name: "api" | "proofs", path: string): Promise<number | null> {
    const origin = name === "api" ? this.apiOrigin : this.proofsOrigin;
    return request(`${origin}${path}`, { dispatcher: this.agent }).then(
      async (r) => {
        await r.body.dump();
        return r.statusCode;
      },
      () => null,
    );
  }

  /** SIGTERM to every process, SIGKILL after 20 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map(terminate));
    await this.agent.close();
  }
}

async function terminate(p: Spawned): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!done) {
    p.child.kill("SIGKILL");
    await p.exited;
  }
}
