import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Received } from "./receiver.js";

export type { Received } from "./receiver.js";

export interface DelayedAnswer {
  status: number;
  body?: string;
  /** Hold the response this long after the request arrived (the request is recorded at once). */
  delayMs?: number;
}

/**
 * Like `Receiver`, but an answer may be held open for a while: a sender killed meanwhile has still
 * delivered the request (it is recorded when its body ends), which is how a crash between sending
 * and recording looks from the receiver's side. Writes to a socket that died meanwhile are ignored.
 */
export class DelayedReceiver {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();
  respond: (req: Received) => DelayedAnswer = () => ({ status: 200, body: "ok" });

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const received: Received = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
        this.requests.push(received);
        const answer = this.respond(received);
        const send = () => {
          this.open.delete(res);
          if (res.destroyed || res.writableEnded) return;
          res.on("error", () => undefined);
          res.writeHead(answer.status);
          res.end(answer.body ?? "");
        };
        if (answer.delayMs === undefined || answer.delayMs <= 0) send();
        else {
          this.open.add(res);
          setTimeout(send, answer.delayMs);
        }
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
