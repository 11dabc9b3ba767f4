import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, iso, portalAuthenticatorFor, principalOf, timestamp, type HttpApp } from "@custody/http";
import { insertPortalSession, listPortalSessions, PORTAL_CAPABILITIES, revokePortalSession, type PortalSessionRow } from "@custody/tenancy";
import type { ApiContext } from "../shared/context.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { routeGroup } from "../shared/route-group.js";
import { missingEndpoints } from "../webhooks/store.js";

const TAGS = ["Endpoint-owner portal"];

/** The longest a portal link may live: links are handed to someone outside the tenant. */
export const MAX_PORTAL_SESSION_SECONDS = 7 * 24 * 3600;

const color = z.string().regex(/^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/, "a hex colour such as #0a7 or #00aa77");

/** The theme variables the portal page applies (CSS custom properties `--accent`, …). */
export const portalTheme = z
  .strictObject({
    accent: color.optional().describe("Buttons, links and focus rings."),
    accentText: color.optional().describe("Text on accent-coloured buttons."),
    background: color.optional().describe("The page."),
    surface: color.optional().describe("Panels and tables."),
    text: color.optional().describe("Body text."),
    muted: color.optional().describe("Secondary text."),
    border: color.optional().describe("Lines between things."),
    radius: z
      .string()
      .regex(/^(?:[0-9]|1[0-9]|2[0-4])px$/, "0px to 24px")
      .optional()
      .describe("Corner radius, `0px`–`24px`."),
    font: z
      .string()
      .regex(/^[A-Za-z0-9 ,'-]{1,120}$/, "a CSS font-family list")
      .optional()
      .describe("A CSS `font-family` list, e.g. `Inter, sans-serif`."),
  })
  .describe("A few CSS variables that style the portal to match the tenant's app.");

const capability = z.enum(PORTAL_CAPABILITIES);

const sessionView = z.object({
  id: z.string().describe("`pts_…`"),
  endpointIds: z.array(z.string()),
  capabilities: z.array(capability).describe("Besides reading its endpoints, their deliveries and attempts (always allowed)."),
  theme: portalTheme,
  createdAt: timestamp,
  expiresAt: timestamp,
  revokedAt: timestamp.nullable(),
});

function view(r: PortalSessionRow) {
  return { id: r.id, endpointIds: r.endpointIds, capabilities: r.capabilities, theme: r.theme, createdAt: iso(r.createdAt), expiresAt: iso(r.expiresAt), revokedAt: iso(r.revokedAt) };
}

/** `POST/GET/DELETE /api/v2/portal-sessions` (admin keys) and `GET /api/v2/portal-session` (the portal itself). */
export async function portalSessionRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "admin" }, (admin) => {
    createSessionRoute(admin, ctx);
    listSessionsRoute(admin, ctx);
    revokeSessionRoute(admin, ctx);
  });
  routeGroup(app, ctx.db, { scope: "read", portal: { capability: "read" } }, (read) => currentSessionRoute(read, ctx));
}

function createSessionRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "/portal-sessions",
    {
      schema: {
        summary: "Create a portal link",
        description: [
          "A short-lived link for the owner of some of your endpoints: `url` opens the endpoint-owner portal (`/console/portal`), where they see only those endpoints, their deliveries and attempts, and can do what `capabilities` allow: `retry` a delivery, `replay` a time range, `rotateSecret`, switch `payloadShape` thin/fat (with the field acknowledgement), download and verify `proofs` (chain of custody, narrowed to their endpoints).",
          "The token is in the URL's fragment (never sent to a server by the browser) and shown only in this response; only its SHA-256 is stored. It authenticates API calls as `Authorization: Bearer cpt_…`: any other endpoint, another endpoint's event, or a tenant-wide route answers 404 or 403. It expires after `expiresInSeconds` (at most 7 days) and `DELETE /api/v2/portal-sessions/{id}` revokes it (within 2 seconds everywhere).",
          "To embed the portal in an iframe of your app, list your app's origin in `CUSTODY_PORTAL_FRAME_ANCESTORS`; `theme` styles it.",
        ].join("\n\n"),
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        body: z.strictObject({
          endpointIds: z.array(z.string().min(1).max(64)).min(1).max(100).describe("`wh_…`: the endpoints the link shows (all must be yours)."),
          expiresInSeconds: z.number().int().min(60).max(MAX_PORTAL_SESSION_SECONDS).default(3600).describe("60 s to 7 days; default 1 hour."),
          capabilities: z
            .array(capability)
            .max(PORTAL_CAPABILITIES.length)
            .default([...PORTAL_CAPABILITIES])
            .describe("Default: all of them."),
          theme: portalTheme.default({}),
        }),
        response: {
          201: sessionView.extend({
            token: z.string().nullable().describe("`cpt_…`: shown once; null in an idempotent replay."),
            url: z.string().nullable().describe("The link to hand over: `<base>/console/portal#token=cpt_…`; null in an idempotent replay."),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const { tenantId, keyId } = principalOf(request);
      const body = request.body;
      const base = `${request.protocol}://${request.host}`;
      return idempotentMutation(ctx.db, request, reply, {
        status: 201,
        run: async (trx) => {
          const ids = [...new Set(body.endpointIds)];
          const [missing] = await missingEndpoints(trx, tenantId, ids);
          if (missing !== undefined) throw new AppError("NOT_FOUND", `no such webhook endpoint ${missing}`, { field: "body.endpointIds" });
          const created = await insertPortalSession(trx, tenantId, {
            endpointIds: ids,
            capabilities: body.capabilities,
            expiresInSeconds: body.expiresInSeconds,
            theme: body.theme as Record<string, string>,
            createdBy: keyId,
          });
          return { ...view(created), token: created.token as string | null, url: `${base}/console/portal#token=${created.token}` as string | null };
        },
        forReplay: (response) => ({ ...response, token: null, url: null }),
      });
    },
  );
}

function listSessionsRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/portal-sessions",
    {
      schema: {
        summary: "List portal links",
        description: "Newest first, at most `limit`; without `all=true` only those still usable (not expired, not revoked). Tokens are never shown again.",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(50),
          all: z.enum(["true", "false"]).default("false").describe("`true`: expired and revoked ones too."),
        }),
        response: { 200: z.object({ data: z.array(sessionView) }), ...errorResponses() },
      },
    },
    async (request) => {
      const rows = await listPortalSessions(ctx.db, principalOf(request).tenantId, { limit: request.query.limit, activeOnly: request.query.all !== "true" });
      return { data: rows.map(view) };
    },
  );
}

function revokeSessionRoute(app: HttpApp, ctx: ApiContext): void {
  app.delete(
    "/portal-sessions/:id",
    {
      schema: {
        summary: "Revoke a portal link",
        description: "The link stops working at once in this API process and within 2 seconds in every other. Revoking again is a no-op.",
        tags: TAGS,
        security: bearerSecurity,
        params: z.object({ id: z.string().min(1).max(64).describe("`pts_…`") }),
        response: { 200: sessionView, ...errorResponses(404) },
      },
    },
    async (request) => {
      const revoked = await revokePortalSession(ctx.db, principalOf(request).tenantId, request.params.id);
      if (!revoked) throw new AppError("NOT_FOUND", "no such portal session", { field: "params.id" });
      portalAuthenticatorFor(ctx.db).forget(revoked.id);
      return view(revoked);
    },
  );
}

function currentSessionRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/portal-session",
    {
      schema: {
        summary: "The portal session making the call",
        description: "For the portal page: the endpoints, capabilities, theme and expiry of the `cpt_…` token sent. An API key gets 403 FORBIDDEN_SCOPE.",
        tags: TAGS,
        security: bearerSecurity,
        response: { 200: sessionView.omit({ createdAt: true, revokedAt: true }), ...errorResponses() },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.portal === undefined) throw new AppError("FORBIDDEN_SCOPE", "only a portal session (Bearer cpt_…) has a portal session");
      const session = await portalAuthenticatorFor(ctx.db).session(request.headers.authorization!.replace(/^Bearer\s+/i, ""));
      return {
        id: principal.portal.sessionId,
        endpointIds: [...principal.portal.endpointIds],
        capabilities: [...principal.portal.capabilities],
        theme: session.theme,
        expiresAt: iso(principal.portal.expiresAt),
      };
    },
  );
}
