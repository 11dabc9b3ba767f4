/** The parent's side of chaos/receiver.ts: forks it, configures paths, collects what it received. */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { ROOT } from "../test/support/processes.js";
import type { Behaviour, BigReport, ParentToReceiver, ReceivedRequest, ReceiverToParent } from "./receiver.js";

const TSX = createRequire(import.meta.url).resolve("tsx");

export class ReceiverProcess {
  readonly requests: ReceivedRequest[] = [];
  readonly big: BigReport[] = [];
  base = "";
  private child: ChildProcess | undefined;
  private flushed: (() => void) | undefined;

  async start(): Promise<string> {
    const child = fork(new URL("./receiver.ts", import.meta.url).pathname, [], {
      execArgv: ["--import", TSX],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      cwd: ROOT,
    });
    this.child = child;
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the receiver exited (${code}) before listening`)));
      child.on("message", (m: ReceiverToParent) => {
        if ("port" in m) resolve(m.port);
        else if ("requests" in m) this.requests.push(...m.requests);
        else if ("big" in m) this.big.push(m.big);
        else if ("flushed" in m) this.flushed?.();
      });
    });
    this.base = `http://127.0.0.1:${port}`;
    return this.base;
  }

  configure(paths: Record<string, Behaviour>): void {
    this.send({ paths });
  }

  /** Resolves once every request received so far is in `requests`. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.flushed = resolve;
      this.send({ flush: true });
    });
  }

  on(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private send(m: ParentToReceiver): void {
    this.child!.send(m);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}
