import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { TargetRefusedError, type Resolver } from "@custody/netguard";
import { classifyTransportError, createSender, excerptOf, limitKeyOf, MAX_CAPTURE_BYTES, type OutgoingRequest, type Sender, type SenderSettings } from "./sender.js";

interface Receiver {
  url: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: () => number;
  requests: Array<{ method: string; path: string; headers: IncomingMessage["headers"]; body: Buffer; at: number }>;
  maxConcurrent: () => number;
  close: () => Promise<void>;
}

const servers: Server[] = [];

async function receiver(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown): Promise<Receiver> {
  let connections = 0;
  let active = 0;
  let maxActive = 0;
  const requests: Receiver["requests"] = [];
  const server = createServer((req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    // 'finish' (handed to the OS) comes before the client can see the response and send the next
    // request; 'close' covers responses that never finish.
    let counted = true;
    const leave = () => {
      if (counted) active--;
      counted = false;
    };
    res.on("finish", leave);
    res.on("close", leave);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, at: Date.now() });
      void handler(req, res, body);
    });
  });
  server.on("connection", () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests,
    maxConcurrent: () => maxActive,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const r = await receiver(() => undefined);
  await r.close();
  return r.port;
}

const senders: Sender[] = [];
function sender(settings: Partial<SenderSettings> = {}): Sender {
  const s = createSender({ allowLoopback: true, timeoutMs: 5_000, maxInFlight: 64, maxPerEndpoint: 16, ...settings });
  senders.push(s);
  return s;
}

function req(url: string, over: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return { url, headers: { "content-type": "application/json" }, body: Buffer.from('{"ok":true}'), limitKey: limitKeyOf(null, url), ratePerSecond: null, ...over };
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const staticResolver =
  (table: Record<string, string>): Resolver =>
  async (hostname) => {
    const address = table[hostname];
    if (address === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return [{ address, family: 4 }];
  };

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});
afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
});

describe("sender", () => {
  it("POSTs exactly the sealed headers and body bytes and captures a 2xx", async () => {
    const r = await receiver((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("thanks"));
    const body = randomBytes(300); // not UTF-8: must arrive byte for byte
    const result = await sender().send(req(`${r.url}/hook?x=1`, { headers: { "content-type": "application/octet-stream", "webhook-id": "msg_1", "idempotency-key": "k-1" }, body }));
    expect(result).toMatchObject({ statusCode: 200, responseExcerpt: "thanks", responseSha256: sha256(Buffer.from("thanks")), errorClass: null, errorMessage: null, retryAfter: undefined });
    expect(result.startedAt).toBeInstanceOf(Date);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.requests).toHaveLength(1);
    const got = r.requests[0]!;
    expect(got.method).toBe("POST");
    expect(got.path).toBe("/hook?x=1");
    expect(got.body.equals(body)).toBe(true);
    expect(got.headers["webhook-id"]).toBe("msg_1");
    expect(got.headers["idempotency-key"]).toBe("k-1");
    expect(got.headers["content-type"]).toBe("application/octet-stream");
  });

  it("reports an empty 204 body as captured and empty", async () => {
    const r = await receiver((_req, res) => res.writeHead(204).end());
    const result = await sender().send(req(r.url));
    expect(result).toMatchObject({ statusCode: 204, responseExcerpt: "", responseSha256: sha256(new Uint8Array()), errorClass: null });
  });

  it("returns a 5xx with its Retry-After", async () => {
    const r = await receiver((_req, res) => res.writeHead(503, { "retry-after": "120" }).end("busy"));
    const result = await sender().send(req(r.url));
    expect(result).toMatchObject({ statusCode: 503, retryAfter: "120", responseExcerpt: "busy", errorClass: null });
  });

  it("does not follow a redirect: the 302 is the result and the Location is never hit", async () => {
    const target = await receiver((_req, res) => res.writeHead(200).end("should not be reached"));
    const r = await receiver((_req, res) => res.writeHead(302, { location: `${target.url}/elsewhere` }).end());
    const result = await sender().send(req(r.url));
    expect(result.statusCode).toBe(302);
    expect(result.errorClass).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.connections()).toBe(0);
  });

  it("times out a receiver that never answers", async () => {
    const r = await receiver(() => undefined); // holds the request open
    const started = Date.now();
    const result = await sender({ timeoutMs: 300 }).send(req(r.url));
    const took = Date.now() - started;
    expect(result).toMatchObject({ statusCode: null, errorClass: "timeout", responseExcerpt: null, responseSha256: null });
    expect(result.errorMessage).toBe("timeout: no complete response within 300 ms");
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(3_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(280);
  });

  it("keeps the status when the body stalls after the headers, and records the timeout beside it", async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial"); // and never ends
    });
    const result = await sender({ timeoutMs: 300 }).send(req(r.url));
    expect(result).toMatchObject({ statusCode: 200, responseExcerpt: "partial", errorClass: "timeout" });
  });

  it("captures only the first 4 KiB of a huge response and stops reading", async () => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    let written = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      // 64 MiB, written as fast as the client drains it: a sender that read it all would take a while.
      const pump = () => {
        while (written < 1024 && res.write(chunk)) written++;
        if (written >= 1024) res.end();
        else
          res.once("drain", () => {
            written++;
            pump();
          });
      };
      res.on("error", () => undefined);
      pump();
    });
    const result = await sender().send(req(r.url));
    expect(result.statusCode).toBe(200);
    expect(result.responseExcerpt).toBe("a".repeat(MAX_CAPTURE_BYTES));
    expect(result.responseSha256).toBe(sha256(Buffer.alloc(MAX_CAPTURE_BYTES, "a")));
    expect(written).toBeLessThan(1024);
  });

  it("keeps undecodable bytes and NULs out of the excerpt, but hashes the exact bytes", async () => {
    const raw = Buffer.from([0x68, 0x00, 0xff, 0x69]);
    const r = await receiver((_req, res) => res.writeHead(400).end(raw));
    const result = await sender().send(req(r.url));
    expect(result.responseExcerpt).toBe("h\uFFFD\uFFFDi");
    expect(result.responseSha256).toBe(sha256(raw));
    expect(excerptOf(new Uint8Array([0xe2, 0x82]))).toBe("\uFFFD");
  });

  it("maps a refused connection to connect", async () => {
    const port = await closedPort();
    const result = await sender().send(req(`http://127.0.0.1:${port}/`));
    expect(result).toMatchObject({ statusCode: null, errorClass: "connect", responseExcerpt: null });
    expect(result.errorMessage).toContain("ECONNREFUSED");
  });

  describe("SSRF guard", () => {
    it("refuses an IP-literal loopback URL before connecting when loopback is not allowed", async () => {
      const r = await receiver((_req, res) => res.writeHead(200).end());
      for (const url of [r.url, `https://127.0.0.1:${r.port}/`, `https://[::ffff:127.0.0.1]:${r.port}/`, `https://2130706433:${r.port}/`]) {
        const result = await sender({ allowLoopback: false }).send(req(url));
        expect(result.errorClass, url).toBe("refused_target");
        expect(result.statusCode).toBeNull();
      }
      expect(r.connections()).toBe(0);
    });

    it("refuses a name that resolves to 127.0.0.1 at connect time (DNS rebinding), without a connection", async () => {
      const r = await receiver((_req, res) => res.writeHead(200).end());
      const resolver = staticResolver({ "rebind.example.com": "127.0.0.1" });
      const result = await sender({ allowLoopback: false, resolver }).send(req(`https://rebind.example.com:${r.port}/hook`));
      expect(result.errorClass).toBe("refused_target");
      expect(result.errorMessage).toContain("ADDRESS_NOT_ALLOWED");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(r.connections()).toBe(0);
    });

    it("connects through the injected resolver when the address is allowed (the lookup really is the guard's)", async () => {
      const r = await receiver((_req, res) => res.writeHead(200).end("hi"));
      const resolver = staticResolver({ "receiver.example.com": "127.0.0.1" });
      const result = await sender({ resolver }).send(req(`http://receiver.example.com:${r.port}/`));
      expect(result.statusCode).toBe(200);
      expect(r.requests[0]?.headers.host).toBe(`receiver.example.com:${r.port}`);
    });

    it("maps a name that does not resolve to dns (retried), not to a refusal", async () => {
      const result = await sender({ resolver: staticResolver({}) }).send(req("https://nowhere.example.com/"));
      expect(result.errorClass).toBe("dns");
      expect(result.errorMessage).toContain("HOST_NOT_RESOLVABLE");
    });
  });

  describe("limits", () => {
    it("holds each endpoint to its concurrency, and all of them to the total", async () => {
      const r = await receiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 60));
      const s = sender({ maxPerEndpoint: 2, maxInFlight: 3 });
      await Promise.all(Array.from({ length: 8 }, () => s.send(req(r.url, { limitKey: "endpoint:wh_a" }))));
      expect(r.maxConcurrent()).toBe(2);

      const r2 = await receiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 60));
      await Promise.all(Array.from({ length: 12 }, (_, i) => s.send(req(r2.url, { limitKey: `endpoint:wh_${i % 4}` }))));
      expect(r2.maxConcurrent()).toBe(3);
      expect(r2.requests).toHaveLength(12);
    });

    it("paces an endpoint by its rate limit by waiting, never failing", async () => {
      const r = await receiver((_req, res) => res.writeHead(200).end());
      const s = sender();
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 6 }, () => s.send(req(r.url, { limitKey: "endpoint:wh_rate", ratePerSecond: 5 }))));
      expect(results.every((x) => x.statusCode === 200)).toBe(true);
      const at = r.requests.map((q) => q.at).sort((a, b) => a - b);
      // One request per 200 ms: the i-th may arrive late (a busy event loop), never before its slot.
      at.forEach((when, i) => {
        expect(when - started).toBeGreaterThanOrEqual(i * 200 - 20);
      });
    });
  });
});

describe("classifyTransportError", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    [coded("ECONNREFUSED"), "connect"],
    [coded("ECONNRESET"), "connect"],
    [coded("UND_ERR_SOCKET"), "connect"],
    [coded("ENOTFOUND"), "dns"],
    [coded("EAI_AGAIN"), "dns"],
    [coded("UND_ERR_CONNECT_TIMEOUT"), "timeout"],
    [coded("UND_ERR_HEADERS_TIMEOUT"), "timeout"],
    [coded("ETIMEDOUT"), "timeout"],
    [coded("CERT_HAS_EXPIRED"), "tls"],
    [coded("ERR_TLS_CERT_ALTNAME_INVALID"), "tls"],
    [coded("DEPTH_ZERO_SELF_SIGNED_CERT"), "tls"],
    [new Error("something else"), "other"],
    [new TargetRefusedError("ADDRESS_NOT_ALLOWED", "private address 10.0.0.1 is not allowed"), "refused_target"],
    [new TargetRefusedError("SCHEME_NOT_ALLOWED", "scheme http: is not allowed"), "refused_target"],
    [new TargetRefusedError("HOST_NOT_RESOLVABLE", "x did not resolve (ENOTFOUND)"), "dns"],
    [new Error("wrapped", { cause: coded("ECONNREFUSED") }), "connect"],
    [new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")]), "connect"],
  ] as const)("%s -> %s", (err, kind) => {
    expect(classifyTransportError(err)).toBe(kind);
  });
});

describe("limitKeyOf", () => {
  it("keys endpoints by id and callbacks by origin", () => {
    expect(limitKeyOf("wh_1", "https://a.example.com/x")).toBe("endpoint:wh_1");
    expect(limitKeyOf(null, "https://a.example.com/x?y")).toBe("origin:https://a.example.com");
    expect(limitKeyOf(null, "https://a.example.com:8443/")).toBe("origin:https://a.example.com:8443");
  });
});
