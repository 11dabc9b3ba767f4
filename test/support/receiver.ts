import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export type Responder = (req: Received, nth: number) => { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** A local webhook receiver on 127.0.0.1 that records every request, answering as `respond` says. */
export class Receiver {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  private readonly counts = new Map<string, number>();
  respond: Responder = () => ({ status: 200, body: "ok" });

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const received: Received = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
        this.requests.push(received);
        const nth = (this.counts.get(received.path) ?? 0) + 1;
        this.counts.set(received.path, nth);
        const answer = this.respond(received, nth);
        if (answer === "hang") return;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? "");
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
