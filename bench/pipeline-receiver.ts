/**
 * The pipeline benchmark's webhook receiver, run as a process of its own (forked by
 * bench/pipeline.ts with an IPC channel) so verifying signatures never steals the load generator's
 * event loop. It verifies EVERY request's Standard Webhooks signature with the independent
 * `standardwebhooks` package, counts failures, de-duplicates on (path, webhook-id), and, while
 * told to, records the receive time of each delivery for the latency phase.
 *
 * Parent → receiver: { secrets: { [path]: secret } }, { record: boolean }, { dump: true }, { sample: true }.
 * Receiver → parent: { port } once listening; { counts } every 100 ms; { records } / { sample } on request.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceiverCounts {
  /** Requests answered (every path, duplicates included). */
  requests: number;
  /** Distinct (path, webhook-id) deliveries on the platform's paths, verified. */
  delivered: number;
  duplicates: number;
  /** Requests on /ceiling, verified. */
  ceiling: number;
  signatureFailures: number;
  firstFailure: string | null;
}

export interface ReceiverSample {
  headers: Record<string, string>;
  body: string;
}

export type ReceiverMessage = { port: number } | { counts: ReceiverCounts } | { records: { ids: string[]; at: number[] } } | { sample: ReceiverSample | null };

export type ParentMessage = { secrets: Record<string, string> } | { record: boolean } | { dump: true } | { sample: true };

const send = (m: ReceiverMessage) => process.send!(m);
const now = () => performance.timeOrigin + performance.now();

const verifiers = new Map<string, Webhook>();
const seen = new Set<string>();
const counts: ReceiverCounts = { requests: 0, delivered: 0, duplicates: 0, ceiling: 0, signatureFailures: 0, firstFailure: null };
let recording = false;
let recordIds: string[] = [];
let recordAt: number[] = [];
let sample: ReceiverSample | null = null;

function fail(reason: string): void {
  counts.signatureFailures++;
  counts.firstFailure ??= reason;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const at = now();
    counts.requests++;
    const path = req.url ?? "/";
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const verifier = verifiers.get(path);
    const headers = req.headers as Record<string, string>;
    if (verifier === undefined) fail(`no secret for path ${path}`);
    else {
      try {
        verifier.verify(body, headers, { jsonParse: false });
        const id = headers["webhook-id"]!;
        if (path === "/ceiling") counts.ceiling++;
        else {
          const key = `${path} ${id}`;
          if (seen.has(key)) counts.duplicates++;
          else {
            seen.add(key);
            counts.delivered++;
            if (recording) {
              recordIds.push(key);
              recordAt.push(at);
            }
            sample ??= { headers: { ...headers }, body: body.toString("utf8") };
          }
        }
      } catch (err) {
        fail(`${path}: ${(err as Error).message}`);
      }
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

process.on("message", (m: ParentMessage) => {
  if ("secrets" in m) for (const [path, secret] of Object.entries(m.secrets)) verifiers.set(path, new Webhook(secret));
  else if ("record" in m) recording = m.record;
  else if ("dump" in m) {
    send({ records: { ids: recordIds, at: recordAt } });
    recordIds = [];
    recordAt = [];
  } else if ("sample" in m) send({ sample });
});
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => {
  send({ port: (server.address() as AddressInfo).port });
  setInterval(() => send({ counts }), 100);
});
