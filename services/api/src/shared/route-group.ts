import type { Db } from "@custody/db";
import { requireScope, type HttpApp, type PortalRule } from "@custody/http";
import type { Scope } from "@custody/tenancy";

/** Who may call a group of routes: API keys with `scope` (or `admin`), and portal sessions only if `portal` says how. */
export interface Access {
  scope: Scope;
  portal?: PortalRule;
}

/**
 * Registers `routes` as one encapsulated plugin whose every route passes the same scope check, so a
 * feature states who may call what once per group, in one place, and a route cannot be added to the
 * group without it. The check is a preHandler hook: it runs after validation, as it did when each
 * route listed it.
 */
export function routeGroup(app: HttpApp, db: Db, access: Access, routes: (group: HttpApp) => void): void {
  void app.register(async (group: HttpApp) => {
    group.addHook("preHandler", requireScope(db, access.scope, access.portal));
    routes(group);
  });
}
