import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Agent } from "undici";
import { guardedLookup, parseTargetUrl, TargetRefusedError, type Resolver, type TargetPolicy } from "@custody/netguard";
import type { TransportError } from "@custody/retry";
import { DeliveryLimiter } from "./limits.js";

/** How much of a response body an attempt keeps: enough to diagnose, bounded so a receiver cannot bloat the audit trail. */
export const MAX_CAPTURE_BYTES = 4 * 1024;

export interface SenderSettings {
  /** CUSTODY_ALLOW_LOOPBACK_TARGETS: development receivers on 127.0.0.1 (and plain http). */
  allowLoopback: boolean;
  /** CUSTODY_DELIVERY_TIMEOUT_MS: connect to last byte. */
  timeoutMs: number;
  /** CUSTODY_DELIVER_CONCURRENCY */
  maxInFlight: number;
  /** CUSTODY_ENDPOINT_CONCURRENCY */
  maxPerEndpoint: number;
  /** Live delivering processes (`LivePeers`), among which each endpoint's concurrency and rate are split; 1 when absent. */
  peers?: () => number;
  /** Name resolution for the connect-time address check; the OS resolver unless a test injects one. */
  resolver?: Resolver;
  /** Wall clock for startedAt and the rate-limit buckets. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  maxCaptureBytes?: number;
}

export interface OutgoingRequest {
  url: string;
  /** Exactly the sealed headers. */
  headers: Readonly<Record<string, string>>;
  /** Exactly the sealed body bytes. */
  body: Uint8Array;
  /** What concurrency and rate limits are counted by: see limitKeyOf. */
  limitKey: string;
  /** The endpoint's rate_limit_per_second, or null for none. */
  ratePerSecond: number | null;
  /** Called when the exchange starts (after waiting for its turn); the function it returns, when it ends. */
  onStart?: () => () => void;
}

export interface SendResult {
  /** When the request started, after waiting for its turn under the limits. */
  startedAt: Date;
  durationMs: number;
  /** The response status; null when no status line arrived. */
  statusCode: number | null;
  /** The captured body (at most 4 KiB) as UTF-8, invalid sequences replaced; null without a response. */
  responseExcerpt: string | null;
  /** SHA-256 of the captured bytes, hex; null without a response. */
  responseSha256: string | null;
  /** The raw Retry-After header, if the response had one. */
  retryAfter: string | undefined;
  /** Why the exchange failed before (or while) the response arrived; null when it completed. */
  errorClass: TransportError | null;
  /** A short description of the failure, safe to show the endpoint's owner; null when none. */
  errorMessage: string | null;
}

export interface Sender {
  send(request: OutgoingRequest): Promise<SendResult>;
  readonly limiter: DeliveryLimiter;
  /** Closes the keep-alive pools (in-flight requests finish first). */
  close(): Promise<void>;
}

/** Endpoint deliveries are limited per endpoint; one-shot callbacks per URL origin (scheme, host, port). */
export function limitKeyOf(endpointId: string | null, url: string): string {
  if (endpointId !== null) return `endpoint:${endpointId}`;
  try {
    return `origin:${new URL(url).origin}`;
  } catch {
    // parseTargetUrl refuses it before anything is sent; the key only has to be stable.
    return `origin:${url}`;
  }
}

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA", "ENODATA", "ESERVFAIL", "EREFUSED", "ETIMEOUT"]);
const CONNECT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENETDOWN", "EPIPE", "EADDRNOTAVAIL", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SSL|TLS/;

/** The error and everything it wraps (cause chains, AggregateError from happy-eyeballs connects). */
function* chain(err: unknown, depth = 0): Generator<unknown> {
  if (err === null || err === undefined || depth > 8) return;
  yield err;
  if (typeof err !== "object") return;
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) for (const e of errors) yield* chain(e, depth + 1);
  yield* chain((err as { cause?: unknown }).cause, depth + 1);
}

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/**
 * Maps a failed exchange to the retry library's transport error kinds. A netguard refusal is a
 * refused_target (dead-letters at once) unless it only says the name did not resolve, which is a
 * DNS failure like any other (retried: names come back).
 */
export function classifyTransportError(err: unknown): TransportError {
  const all = [...chain(err)];
  const refusal = all.find((e): e is TargetRefusedError => e instanceof TargetRefusedError);
  if (refusal !== undefined) return refusal.code === "HOST_NOT_RESOLVABLE" ? "dns" : "refused_target";
  const codes = all.map(codeOf).filter((c): c is string => c !== undefined);
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return "timeout";
  if (codes.some((c) => DNS_CODES.has(c))) return "dns";
  if (codes.some((c) => TLS_CODE.test(c))) return "tls";
  if (codes.some((c) => CONNECT_CODES.has(c))) return "connect";
  return "other";
}

function describeFailure(kind: TransportError, err: unknown, timeoutMs: number): string {
  if (kind === "timeout") return `timeout: no complete response within ${timeoutMs} ms`;
  const refusal = [...chain(err)].find((e): e is TargetRefusedError => e instanceof TargetRefusedError);
  // TargetRefusedError.reason is written to be shown to the customer; it never echoes the URL.
  if (refusal !== undefined) return `${kind}: ${refusal.code}: ${refusal.reason}`;
  const first = err instanceof Error ? err : undefined;
  const code = [...chain(err)].map(codeOf).find((c) => c !== undefined);
  const text = `${kind}: ${code ?? first?.name ?? "error"}${first?.message ? ` (${first.message})` : ""}`;
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

// A response body is text more often than not; keep what decodes and mark what does not, rather
// than refusing to record it. NUL cannot be stored in a Postgres text column, so it becomes U+FFFD
// too (the hash still covers the exact bytes).
const utf8 = new TextDecoder("utf-8", { fatal: false });
export function excerptOf(bytes: Uint8Array): string {
  return utf8.decode(bytes).replace(/\u0000/g, "\uFFFD");
}

class TimeoutSignal extends Error {
  override readonly name = "TimeoutError";
  readonly code = "UND_ERR_HEADERS_TIMEOUT";
}

/** Why a response is cut off after the capture limit: not a failure (its result is already settled). */
class CaptureComplete extends Error {
  override readonly name = "CaptureComplete";
}

/**
 * The HTTP sender: one undici Agent (keep-alive pool per origin) whose connector resolves names
 * through netguard, so the SSRF check runs on the addresses actually connected to (DNS rebinding);
 * IP-literal hosts never reach a lookup, so the URL is checked again before every send too.
 * Redirects are not followed (undici's dispatcher never does), so a 3xx comes back as a status.
 * `send` never throws: every failure becomes a SendResult.
 */
export function createSender(settings: SenderSettings): Sender {
  const now = settings.now ?? Date.now;
  const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxCapture = settings.maxCaptureBytes ?? MAX_CAPTURE_BYTES;
  const policy: TargetPolicy = Object.freeze({ allowLoopback: settings.allowLoopback === true });
  const timeoutMs = settings.timeoutMs;
  const agent = new Agent({
    connect: { lookup: guardedLookup(policy, settings.resolver), timeout: timeoutMs },
    // Backstops for the per-request abort below, which is what enforces the total budget.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
  });
  const limiter = new DeliveryLimiter({ maxInFlight: settings.maxInFlight, maxPerKey: settings.maxPerEndpoint, peers: settings.peers, now, sleep });

  /**
   * One exchange on undici's dispatch API: no response stream is made, the status, headers and at
   * most `maxCapture` body bytes arrive in callbacks (measured: a third less CPU per request than
   * `request()`). Past the capture limit the exchange is aborted, so a huge or endless response
   * costs 4 KiB, not its size (and the connection is not reused). Never rejects.
   */
  function exchange(req: OutgoingRequest, startedAt: Date, t0: number): Promise<SendResult> {
    const done = (fields: Partial<SendResult>): SendResult => ({
      startedAt,
      durationMs: Math.max(0, Math.round(performance.now() - t0)),
      statusCode: null,
      responseExcerpt: null,
      responseSha256: null,
      retryAfter: undefined,
      errorClass: null,
      errorMessage: null,
      ...fields,
    });
    let url: URL;
    try {
      url = parseTargetUrl(req.url, policy);
    } catch (err) {
      const kind = classifyTransportError(err);
      return Promise.resolve(done({ errorClass: kind, errorMessage: describeFailure(kind, err, timeoutMs) }));
    }
    return new Promise<SendResult>((resolve) => {
      let controller: { abort(reason: Error): void } | undefined;
      let timedOut = false;
      let status: number | null = null;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      let captured = 0;
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const response = (failure?: { kind: TransportError; err: unknown }) => {
        const body = Buffer.concat(chunks, captured);
        return done({
          statusCode: status,
          responseExcerpt: excerptOf(body),
          responseSha256: createHash("sha256").update(body).digest("hex"),
          retryAfter,
          errorClass: failure?.kind ?? null,
          errorMessage: failure === undefined ? null : describeFailure(failure.kind, failure.err, timeoutMs),
        });
      };
      const timer = setTimeout(() => {
        timedOut = true;
        controller?.abort(new TimeoutSignal(`no complete response within ${timeoutMs} ms`));
      }, timeoutMs);
      agent.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: "POST", headers: req.headers as Record<string, string>, body: req.body }, {
        onRequestStart(c: { abort(reason: Error): void }) {
          controller = c;
          if (timedOut) c.abort(new TimeoutSignal(`no complete response within ${timeoutMs} ms`));
        },
        onResponseStart(_c: unknown, statusCode: number, headers: Record<string, string | string[] | undefined>) {
          // 1xx informational answers come first; the final status is the last one.
          if (statusCode < 200) return;
          status = statusCode;
          const raw = headers["retry-after"];
          retryAfter = Array.isArray(raw) ? raw[0] : raw;
        },
        onResponseData(c: { abort(reason: Error): void }, chunk: Buffer) {
          const room = maxCapture - captured;
          if (chunk.length >= room) {
            if (room > 0) chunks.push(chunk.subarray(0, room));
            captured = maxCapture;
            // Enough: the status is the verdict, the excerpt is for diagnosis. Stop reading.
            if (chunk.length > room) {
              finish(response());
              c.abort(new CaptureComplete());
            }
            return;
          }
          chunks.push(chunk);
          captured += chunk.length;
        },
        onResponseEnd() {
          finish(response());
        },
        onResponseError(_c: unknown, err: Error) {
          if (settled) return;
          if (status !== null) {
            // The status line already carries the receiver's verdict; a body that stalls or
            // breaks afterwards is recorded beside it, and the status decides the outcome.
            finish(response({ kind: timedOut ? "timeout" : classifyTransportError(err), err }));
            return;
          }
          const kind = timedOut ? "timeout" : classifyTransportError(err);
          finish(done({ errorClass: kind, errorMessage: describeFailure(kind, err, timeoutMs) }));
        },
      } as never);
    });
  }

  return {
    limiter,
    async send(req) {
      const release = await limiter.acquire(req.limitKey, req.ratePerSecond);
      const ended = req.onStart?.();
      try {
        return await exchange(req, new Date(now()), performance.now());
      } catch (err) {
        // exchange maps every expected failure itself; this is a bug, recorded rather than lost.
        return {
          startedAt: new Date(now()),
          durationMs: 0,
          statusCode: null,
          responseExcerpt: null,
          responseSha256: null,
          retryAfter: undefined,
          errorClass: "other",
          errorMessage: describeFailure("other", err, timeoutMs),
        };
      } finally {
        ended?.();
        release();
      }
    },
    async close() {
      await agent.close();
    },
  };
}
