/** Calls to the Custody API from the console: one error model, the credential kept in sessionStorage only. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export type Credential = { kind: "key" | "portal"; token: string };

const KEY = "custody.credential";

/** The portal page (`/console/portal`) signs in with the link's token; the console with an API key. */
export const PORTAL = /\/console\/portal\/?$/.test(location.pathname);

export function credential(): Credential | null {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return null;
  try {
    const c = JSON.parse(raw) as Credential;
    return c.kind === (PORTAL ? "portal" : "key") ? c : null;
  } catch {
    return null;
  }
}

export function signIn(c: Credential): void {
  sessionStorage.setItem(KEY, JSON.stringify(c));
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | string[] | undefined | null>;
  idempotencyKey?: string;
  /** Answer the raw bytes (downloads, the delivered body). */
  raw?: boolean;
  signal?: AbortSignal;
}

export function withQuery(path: string, query: CallOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  }
  const q = params.toString();
  return q === "" ? path : `${path}?${q}`;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const c = credential();
  const headers: Record<string, string> = {};
  if (c !== null) headers.authorization = `Bearer ${c.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
      cache: "no-store",
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK_ERROR", `the API could not be reached: ${(err as Error).message}`);
  }
  if (!res.ok) {
    let body: { error?: { code?: string; message?: string; field?: string; details?: Record<string, unknown> } } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON: reported by status below
    }
    const e = body.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText, e?.field, e?.details);
  }
  if (options.raw) return new Uint8Array(await res.arrayBuffer()) as T;
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, query?: CallOptions["query"], signal?: AbortSignal) => call<T>("GET", path, { query, ...(signal ? { signal } : {}) });

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** Types of the API's answers the console reads (the OpenAPI document has them all). */
export interface Endpoint {
  id: string;
  url: string;
  displayName: string;
  subscriptions: string[];
  defaultPayloadShape: "thin" | "fat";
  fatEventsAcknowledgment: { fieldsAcknowledged: string[] };
  retryPolicy: { kind: string; maxAttempts: number; delaysSeconds: number[] };
  rateLimit: number | null;
  disabled: boolean;
  disabledReason: string | null;
  secretStatus: { currentKeyId: string; createdAt: string; previousKeyId: string | null; previousValidUntil: string | null };
  createdAt: string;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointId?: string | null;
  status: "pending" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled";
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deadReason: string | null;
  deliveredAt: string | null;
  createdAt: string;
  idempotencyKey: string;
  replayId: string | null;
}

export interface Attempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string | null;
  errorClass: string | null;
  keyIds: string[];
  outcome: "delivered" | "retry" | "dead";
  custodyRoot: string;
}

export type DeliveryDetail = Omit<Delivery, "attempts"> & { sealedAttempts: number; attempts: Attempt[]; redaction: { shape: string; removed: { path: string }[] } | null };

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
  searchedTo?: string | null;
}

export interface PortalSession {
  id: string;
  endpointIds: string[];
  capabilities: string[];
  theme: Record<string, string>;
  expiresAt: string;
}
