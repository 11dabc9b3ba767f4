import { createHash, randomBytes } from "node:crypto";
import { TtlCache } from "@custody/cache";
import { newId, sql, type Db, type Kysely, type Database } from "@custody/db";
import { AppError } from "@custody/errors";
import type { Principal } from "./repository.js";

/**
 * Portal sessions: a short-lived, revocable credential a tenant hands the owner of some of its
 * endpoints (the endpoint-owner portal, `/console/portal`). The token is `cpt_` and 32 random bytes
 * (base64url); only its SHA-256 is stored. A request made with it is a `Principal` with no scopes
 * and a `portal` grant: the routes that admit portal sessions restrict it to the session's endpoints
 * and capabilities (libs/http `requireScope`), every other route refuses it.
 */

/** What a portal session may do besides reading its endpoints, their deliveries and attempts. */
export const PORTAL_CAPABILITIES = ["retry", "replay", "rotateSecret", "payloadShape", "proofs"] as const;
export type PortalCapability = (typeof PORTAL_CAPABILITIES)[number];

export interface PortalGrant {
  sessionId: string;
  /** The only endpoints the session sees; any other is 404. */
  endpointIds: readonly string[];
  capabilities: readonly PortalCapability[];
  expiresAt: Date;
}

export interface PortalTheme {
  [variable: string]: string;
}

const TOKEN_FORMAT = /^cpt_[A-Za-z0-9_-]{43}$/;

export function isPortalToken(token: string): boolean {
  return token.startsWith("cpt_");
}

export function hashPortalToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

export interface NewPortalSession {
  endpointIds: readonly string[];
  capabilities: readonly PortalCapability[];
  expiresInSeconds: number;
  theme: PortalTheme;
  createdBy: string;
}

export interface PortalSessionRow {
  id: string;
  endpointIds: string[];
  capabilities: PortalCapability[];
  theme: PortalTheme;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

function rowView(r: { id: string; endpoint_ids: string[]; capabilities: string[]; theme: PortalTheme; created_at: Date; expires_at: Date; revoked_at: Date | null }): PortalSessionRow {
  return {
    id: r.id,
    endpointIds: r.endpoint_ids,
    capabilities: r.capabilities as PortalCapability[],
    theme: r.theme,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/** Stores a new session; the caller has checked the endpoints are the tenant's. Returns the token, shown once. */
export async function insertPortalSession(db: Kysely<Database>, tenantId: string, spec: NewPortalSession): Promise<PortalSessionRow & { token: string }> {
  const token = `cpt_${randomBytes(32).toString("base64url")}`;
  const row = await db
    .insertInto("portal_sessions")
    .values({
      id: newId("pts"),
      tenant_id: tenantId,
      token_hash: hashPortalToken(token),
      endpoint_ids: [...new Set(spec.endpointIds)],
      capabilities: [...new Set(spec.capabilities)],
      theme: JSON.stringify(spec.theme),
      created_by: spec.createdBy,
      expires_at: sql<Date>`now() + make_interval(secs => ${spec.expiresInSeconds})`,
    })
    .returning(["id", "endpoint_ids", "capabilities", "theme", "created_at", "expires_at", "revoked_at"])
    .executeTakeFirstOrThrow();
  return { ...rowView(row), token };
}

export async function listPortalSessions(db: Kysely<Database>, tenantId: string, options: { limit: number; activeOnly: boolean }): Promise<PortalSessionRow[]> {
  let q = db.selectFrom("portal_sessions").select(["id", "endpoint_ids", "capabilities", "theme", "created_at", "expires_at", "revoked_at"]).where("tenant_id", "=", tenantId);
  if (options.activeOnly) q = q.where("revoked_at", "is", null).where("expires_at", ">", sql<Date>`now()`);
  return (await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(options.limit).execute()).map(rowView);
}

/** Revokes a session (a no-op if it already was); undefined when it is not the tenant's. */
export async function revokePortalSession(db: Kysely<Database>, tenantId: string, id: string): Promise<PortalSessionRow | undefined> {
  const row = await db
    .updateTable("portal_sessions")
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .returning(["id", "endpoint_ids", "capabilities", "theme", "created_at", "expires_at", "revoked_at"])
    .executeTakeFirst();
  return row === undefined ? undefined : rowView(row);
}

/** A revoked session stops working in other processes within this long; in the revoking one at once. */
export const PORTAL_SESSION_CACHE_MS = 2_000;

interface CachedSession {
  principal: Principal;
  theme: PortalTheme;
}

/**
 * Authenticates portal tokens, remembering valid sessions for PORTAL_SESSION_CACHE_MS (and never past
 * their expiry). Unknown, malformed, expired and revoked tokens are all UNAUTHENTICATED.
 */
export class PortalAuthenticator {
  private readonly valid: TtlCache<CachedSession | null>;
  private readonly hashOfSession = new Map<string, string>();

  constructor(
    private readonly db: Db,
    ttlMs = PORTAL_SESSION_CACHE_MS,
  ) {
    this.valid = new TtlCache(ttlMs);
  }

  async authenticate(token: string): Promise<Principal> {
    return (await this.session(token)).principal;
  }

  async session(token: string): Promise<CachedSession> {
    if (!TOKEN_FORMAT.test(token)) throw expired();
    const hash = hashPortalToken(token).toString("hex");
    const found = (await this.valid.getMany([hash], (missing) => this.load(missing), null)).get(hash);
    if (!found || found.principal.portal!.expiresAt.getTime() <= Date.now()) {
      this.valid.invalidate(hash);
      throw expired();
    }
    return found;
  }

  forget(sessionId: string): void {
    const hash = this.hashOfSession.get(sessionId);
    if (hash !== undefined) this.valid.invalidate(hash);
  }

  private async load(hashes: string[]): Promise<Map<string, CachedSession>> {
    const { rows } = await sql<{ id: string; tenant_id: string; endpoint_ids: string[]; capabilities: string[]; theme: PortalTheme; expires_at: Date; hash: string }>`
      SELECT id, tenant_id, endpoint_ids, capabilities, theme, expires_at, encode(token_hash, 'hex') AS hash FROM portal_sessions
      WHERE token_hash = ANY(${sql.val(hashes.map((h) => Buffer.from(h, "hex")))}::bytea[]) AND revoked_at IS NULL AND expires_at > now()`.execute(this.db);
    for (const r of rows) this.hashOfSession.set(r.id, r.hash);
    return new Map(
      rows.map((r) => [
        r.hash,
        {
          theme: r.theme,
          principal: {
            tenantId: r.tenant_id,
            keyId: r.id,
            environment: "live" as const,
            scopes: [],
            portal: { sessionId: r.id, endpointIds: r.endpoint_ids, capabilities: r.capabilities as PortalCapability[], expiresAt: r.expires_at },
          },
        },
      ]),
    );
  }
}

function expired(): AppError {
  return new AppError("UNAUTHENTICATED", "this portal link has expired or was revoked; ask for a new one");
}
