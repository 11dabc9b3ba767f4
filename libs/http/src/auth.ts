import type { FastifyRequest } from "fastify";
import type { Db } from "@custody/db";
import { AppError } from "@custody/errors";
import { ApiKeyAuthenticator, isPortalToken, PortalAuthenticator, type PortalCapability, type Principal, type Scope } from "@custody/tenancy";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * A preHandler that admits a request whose bearer key is valid and carries `scope` (`admin` implies
 * every scope). The principal is left on the request; every query then filters by its tenant, so
 * another tenant's object is simply not found (404), never forbidden.
 */
// One authenticator (and so one cache of valid keys) per database handle, shared by every route.
const authenticators = new WeakMap<Db, ApiKeyAuthenticator>();
const portalAuthenticators = new WeakMap<Db, PortalAuthenticator>();

export function authenticatorFor(db: Db): ApiKeyAuthenticator {
  let auth = authenticators.get(db);
  if (auth === undefined) {
    auth = new ApiKeyAuthenticator(db);
    authenticators.set(db, auth);
  }
  return auth;
}

export function portalAuthenticatorFor(db: Db): PortalAuthenticator {
  let auth = portalAuthenticators.get(db);
  if (auth === undefined) {
    auth = new PortalAuthenticator(db);
    portalAuthenticators.set(db, auth);
  }
  return auth;
}

/**
 * How a route admits a portal session (a `cpt_…` token, see libs/tenancy portal.ts). A route without
 * one refuses every portal session with 403 FORBIDDEN_SCOPE, so a route is closed to the portal
 * unless it says otherwise.
 */
export interface PortalRule {
  /** What the session must be allowed to do; `read` is every session's. */
  capability: PortalCapability | "read";
  /**
   * The path parameter naming the endpoint the route acts on: it must be one of the session's,
   * otherwise 404 NOT_FOUND as for an endpoint that does not exist. Routes without one (listings,
   * an event's proof) narrow their answer to `principal.portal.endpointIds` themselves.
   */
  endpointParam?: string;
}

function bearerOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError("UNAUTHENTICATED", "send an API key as `Authorization: Bearer ck_…`", { headers: { "www-authenticate": "Bearer" } });
  return match[1]!;
}

export function requireScope(db: Db, scope: Scope, portal?: PortalRule) {
  const auth = authenticatorFor(db);
  const portalAuth = portalAuthenticatorFor(db);
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerOf(request);
    if (isPortalToken(token)) {
      const principal = await portalAuth.authenticate(token);
      const grant = principal.portal!;
      if (portal === undefined) throw new AppError("FORBIDDEN_SCOPE", "a portal session cannot use this route");
      if (portal.capability !== "read" && !grant.capabilities.includes(portal.capability)) {
        throw new AppError("FORBIDDEN_SCOPE", `this portal session lacks the '${portal.capability}' capability`);
      }
      if (portal.endpointParam !== undefined) {
        const id = (request.params as Record<string, unknown> | undefined)?.[portal.endpointParam];
        if (typeof id !== "string" || !grant.endpointIds.includes(id)) {
          throw new AppError("NOT_FOUND", "no such webhook endpoint", { field: `params.${portal.endpointParam}` });
        }
      }
      request.principal = principal;
      return;
    }
    const principal = await auth.authenticate(token);
    if (!principal.scopes.includes(scope) && !principal.scopes.includes("admin")) {
      throw new AppError("FORBIDDEN_SCOPE", `this API key lacks the '${scope}' scope`);
    }
    request.principal = principal;
  };
}

/** The authenticated principal; routes call this only behind `requireScope`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError("INTERNAL", "route is missing its requireScope preHandler");
  return request.principal;
}

/** The endpoints a request may see: a portal session's, or undefined for an API key (all of its tenant's). */
export function visibleEndpoints(request: FastifyRequest): readonly string[] | undefined {
  return principalOf(request).portal?.endpointIds;
}
