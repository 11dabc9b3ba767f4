import { Worker } from "node:worker_threads";
import { verifyCheckpoint, type AuditCheckpoint, type CheckpointVerdict } from "@custody/ledger";
import type { VerifierKey } from "@custody/note";
import type { VerifierSetup, VerifyRequest, VerifyResponse } from "./audit-worker.js";

interface Job {
  checkpoint: AuditCheckpoint;
  resolve: (verdict: CheckpointVerdict) => void;
}

/** Checkpoints a thread takes at a time: enough to keep it busy between messages, few enough to share. */
const BATCH = 8;

/**
 * Checks checkpoint signatures while the audit re-derives the tree: each checkpoint's check
 * (`verifyCheckpoint`, ~1 ms of Ed25519) is independent of the leaves, and a ledger has one every
 * few hundred leaves or more often. Threads take checkpoints from one queue, and so does the audit's
 * own thread whenever it waits for Postgres (`helpUntil`), so that both cores share the work.
 */
export class CheckpointVerifier {
  private readonly queue: Job[] = [];
  private readonly workers: Array<{ worker: Worker; busy: Job[] | undefined }>;
  private failure: unknown;
  private closing = false;

  constructor(
    vkeys: readonly string[],
    private readonly keys: readonly VerifierKey[],
    private readonly origin: string | undefined,
    threads: number,
  ) {
    const setup: VerifierSetup = { vkeys: [...vkeys], origin };
    // The worker is TypeScript, like this file: it registers the same loader (tsx) before loading it.
    const tsx = import.meta.resolve("tsx/esm/api");
    const entry = new URL("./audit-worker.ts", import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
    this.workers = Array.from({ length: threads }, () => {
      const slot = { worker: new Worker(bootstrap, { eval: true, workerData: setup, execArgv: [] }), busy: undefined as Job[] | undefined };
      slot.worker.on("message", (response: VerifyResponse) => {
        const jobs = slot.busy ?? [];
        slot.busy = undefined;
        response.verdicts.forEach((v, i) => jobs[i]?.resolve(v));
        this.dispatch();
      });
      slot.worker.on("error", (err) => this.fail(err));
      slot.worker.on("exit", (code) => {
        if (slot.busy !== undefined && !this.closing) this.fail(new Error(`a checkpoint verification thread exited (code ${code})`));
      });
      // A thread asks for work as soon as it has loaded: an empty request answers then.
      slot.busy = [];
      slot.worker.postMessage({ checkpoints: [] } satisfies VerifyRequest);
      return slot;
    });
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    // Without threads, the audit's own thread checks everything: what a thread held, here and now;
    // what is queued or still to come, while it waits and at the end (helpUntil, drain).
    for (const slot of this.workers) {
      for (const job of slot.busy ?? []) job.resolve(verifyCheckpoint(job.checkpoint, this.keys, this.origin));
      slot.busy = undefined;
    }
  }

  private dispatch(): void {
    if (this.failure !== undefined) return;
    for (const slot of this.workers) {
      if (slot.busy !== undefined || this.queue.length === 0) continue;
      slot.busy = this.queue.splice(0, BATCH);
      slot.worker.postMessage({ checkpoints: slot.busy.map((j) => j.checkpoint) } satisfies VerifyRequest);
    }
  }

  /** The verdict of each checkpoint, in order, as they are checked (here or on a thread). */
  verify(checkpoints: readonly AuditCheckpoint[]): Promise<CheckpointVerdict[]> {
    const verdicts = checkpoints.map(
      (checkpoint) => new Promise<CheckpointVerdict>((resolve) => this.queue.push({ checkpoint, resolve })),
    );
    this.dispatch();
    return Promise.all(verdicts);
  }

  /**
   * Checks one queued checkpoint on this thread if the threads are behind (more are queued than
   * one of them takes at a time): called between slices of other work, it keeps the queue from
   * growing into a tail of checks after the leaves are done.
   */
  share(): void {
    if (this.queue.length <= BATCH && this.failure === undefined) return;
    const job = this.queue.shift();
    job?.resolve(verifyCheckpoint(job.checkpoint, this.keys, this.origin));
  }

  /** Checks queued checkpoints on this thread until `until` settles (or none are left), then returns what it settled to. */
  async helpUntil<T>(until: Promise<T>): Promise<T> {
    let settled = false;
    until.then(
      () => (settled = true),
      () => (settled = true),
    );
    await Promise.resolve();
    while (!settled) {
      const job = this.queue.shift();
      if (job === undefined) break;
      job.resolve(verifyCheckpoint(job.checkpoint, this.keys, this.origin));
      // Let the socket and the threads' messages in.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return until;
  }

  /** Checks whatever is still queued on this thread too, until every verdict is in. */
  async drain<T>(until: Promise<T>): Promise<T> {
    for (;;) {
      const job = this.queue.shift();
      if (job === undefined) return until;
      job.resolve(verifyCheckpoint(job.checkpoint, this.keys, this.origin));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
