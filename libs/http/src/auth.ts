import type { FastifyRequest } from "fastify";
import type { Db } from "@custody/db";
import { AppError } from "@custody/errors";
import { ApiKeyAuthenticator, type Principal, type Scope } from "@custody/tenancy";

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

export function authenticatorFor(db: Db): ApiKeyAuthenticator {
  let auth = authenticators.get(db);
  if (auth === undefined) {
    auth = new ApiKeyAuthenticator(db);
    authenticators.set(db, auth);
  }
  return auth;
}

export function requireScope(db: Db, scope: Scope) {
  const auth = authenticatorFor(db);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new AppError("UNAUTHENTICATED", "send an API key as `Authorization: Bearer ck_…`", { headers: { "www-authenticate": "Bearer" } });
    const principal = await auth.authenticate(match[1]!);
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
