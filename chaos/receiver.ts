/**
 * The chaos suite's webhook receiver, a process of its own (forked by chaos/receiver-client.ts with
 * an IPC channel) so that streaming a 200 MB answer or holding hundreds of hanging requests never
 * steals the load generator's event loop. Each path has a behaviour:
 *
 * - `ok`: 200 at once;
 * - `hang`: never answers (the request stays open until the sender gives up);
 * - `flap`: 503 to a delivery's first `failures` attempts (counted by x-custody-record), 200 after;
 * - `gone`: 410;
 * - `big`: 200 with a body of `bigBytes` bytes, written as fast as the client reads; how much the
 *   socket took before the client hung up is reported (the sender must stop reading early).
 *
 * Every request is reported to the parent (in batches every 100 ms): when it arrived, the path,
 * `webhook-id`, a digest of its body and headers (so a duplicate can be checked byte for byte) and,
 * the first time a digest is seen, the headers and body themselves for the parent to verify.
 *
 * Parent → receiver: { paths: { [path]: Behaviour } }, { flush: true }.
 * Receiver → parent: { port } once listening; { requests: ReceivedRequest[] } batches;
 * { flushed: true } after a flush; { big: BigReport } when a big answer ends.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type Behaviour = ({ mode: "ok" | "hang" | "gone" } | { mode: "flap"; failures: number } | { mode: "big"; bigBytes: number }) & {
  /** The endpoint's signing secret: every request's Standard Webhooks signature is checked with it. */
  secret?: string;
};

export interface ReceivedRequest {
  at: number;
  path: string;
  webhookId: string;
  /** SHA-256 of x-custody-record: which sealed attempt this is. */
  attempt: string;
  /** SHA-256 over the body and every header but the transport ones: equal digests are byte-identical requests. */
  digest: string;
  status: number | null;
  /** The Standard Webhooks signature verified (independent `standardwebhooks` package) against the path's secret; null without one. */
  signed: boolean | null;
  /** The first request with this digest carries its headers and body (base64) for verification. */
  full?: { headers: Record<string, string>; body: string };
}

export interface BigReport {
  path: string;
  /** Bytes the socket accepted before the client closed it (or all of them). */
  written: number;
  completed: boolean;
  ms: number;
}

export type ReceiverToParent = { port: number } | { requests: ReceivedRequest[] } | { flushed: true } | { big: BigReport };
export type ParentToReceiver = { paths: Record<string, Behaviour> } | { flush: true };

/** Headers that a connection adds, not the sender's content. */
const TRANSPORT_HEADERS = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length"]);

const behaviours = new Map<string, Behaviour>();
const verifiers = new Map<string, Webhook>();
const digestsSeen = new Set<string>();
let outbox: ReceivedRequest[] = [];
const hanging = new Set<ServerResponse>();
const send = (m: ReceiverToParent) => process.send!(m);

function digestOf(body: Buffer, headers: Record<string, string>): string {
  const h = createHash("sha256").update(body);
  for (const name of Object.keys(headers).sort()) if (!TRANSPORT_HEADERS.has(name)) h.update(`\n${name}: ${headers[name]}`);
  return h.digest("hex");
}

function answerBig(path: string, bytes: number, res: ServerResponse): void {
  const started = Date.now();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  let done = false;
  const finish = (completed: boolean) => {
    if (done) return;
    done = true;
    send({ big: { path, written, completed, ms: Date.now() - started } });
  };
  res.on("close", () => finish(res.writableFinished));
  res.on("error", () => finish(false));
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes) });
  const pump = () => {
    while (written < bytes && !res.destroyed) {
      const n = Math.min(chunk.length, bytes - written);
      written += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const path = req.url ?? "/";
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
  const attempt = createHash("sha256")
    .update(headers["x-custody-record"] ?? "")
    .digest("hex");
  const digest = digestOf(body, headers);
  const behaviour = behaviours.get(path) ?? { mode: "ok" as const };
  let status: number | null;
  switch (behaviour.mode) {
    case "ok":
    case "big":
      status = 200;
      break;
    case "gone":
      status = 410;
      break;
    case "hang":
      status = null;
      break;
    case "flap":
      // A delivery's first `failures` sealed attempts fail; copies of one attempt answer alike.
      status = attemptIndex(path, headers["webhook-id"] ?? "", attempt) < behaviour.failures ? 503 : 200;
      break;
  }
  const verifier = verifiers.get(path);
  let signed: boolean | null = null;
  if (verifier !== undefined) {
    try {
      verifier.verify(body, headers, { jsonParse: false });
      signed = true;
    } catch {
      signed = false;
    }
  }
  const item: ReceivedRequest = { at: Date.now(), path, webhookId: headers["webhook-id"] ?? "", attempt, digest, status, signed };
  if (!digestsSeen.has(digest)) {
    digestsSeen.add(digest);
    item.full = { headers, body: body.toString("base64") };
  }
  outbox.push(item);
  if (status === null) {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
    return;
  }
  if (behaviour.mode === "big") {
    answerBig(path, behaviour.bigBytes, res);
    return;
  }
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(status === 200 ? "ok" : "no");
}

/** Distinct sealed attempts of one delivery (path, webhook-id) seen before this one. */
const attemptsOfDelivery = new Map<string, string[]>();
function attemptIndex(path: string, webhookId: string, attempt: string): number {
  const key = `${path} ${webhookId}`;
  const list = attemptsOfDelivery.get(key) ?? [];
  if (!list.includes(attempt)) list.push(attempt);
  attemptsOfDelivery.set(key, list);
  return list.indexOf(attempt);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => handle(req, Buffer.concat(chunks), res));
  res.on("error", () => undefined);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

process.on("message", (m: ParentToReceiver) => {
  if ("paths" in m) {
    for (const [path, b] of Object.entries(m.paths)) {
      behaviours.set(path, b);
      if (b.secret !== undefined) verifiers.set(path, new Webhook(b.secret));
    }
  } else if ("flush" in m) {
    flush();
    send({ flushed: true });
  }
});
process.on("disconnect", () => process.exit(0));

function flush(): void {
  if (outbox.length === 0) return;
  send({ requests: outbox });
  outbox = [];
}

server.listen(0, "127.0.0.1", () => {
  send({ port: (server.address() as AddressInfo).port });
  setInterval(flush, 100);
});
