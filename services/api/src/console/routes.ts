import type { FastifyReply, FastifyRequest } from "fastify";
import { CONSOLE_DIST_DIR, loadConsoleBuild, type ConsoleBuild, type ConsoleFile } from "@custody/console";
import { AppError } from "@custody/errors";
import type { HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";

/**
 * The operator console (`/console`) and the endpoint-owner portal (`/console/portal`): one built
 * page (console/build.mjs) served from memory. Hashed assets are cached for a year; the page itself
 * is revalidated on every load, so a new build is picked up at once. Every page carries a CSP that
 * lets it load only its own scripts and styles and talk only to this origin; the console can never
 * be framed, the portal only by the origins in CUSTODY_PORTAL_FRAME_ANCESTORS.
 */

const BASE_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'self'", "object-src 'none'"].join("; ");

export function consoleCsp(frameAncestors: readonly string[]): string {
  return `${BASE_CSP}; frame-ancestors ${frameAncestors.length === 0 ? "'none'" : frameAncestors.join(" ")}`;
}

function send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, cacheControl: string): FastifyReply {
  void reply.header("cache-control", cacheControl).header("etag", file.etag).header("vary", "accept-encoding").header("x-content-type-options", "nosniff").type(file.type);
  if (request.headers["if-none-match"] === file.etag) return reply.status(304).send();
  const accepts = String(request.headers["accept-encoding"] ?? "");
  if (file.brotli !== undefined && /\bbr\b/.test(accepts)) return reply.header("content-encoding", "br").send(file.brotli);
  if (file.gzip !== undefined && /\bgzip\b/.test(accepts)) return reply.header("content-encoding", "gzip").send(file.gzip);
  return reply.send(file.body);
}

/** `/console`: the built pages and their assets, open to anyone; what they show comes from routes that need a key or a portal token. */
export async function consoleRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  const dir = ctx.config.CUSTODY_CONSOLE_DIR === "" ? CONSOLE_DIST_DIR : ctx.config.CUSTODY_CONSOLE_DIR;
  let built: ConsoleBuild | undefined;
  const current = (): ConsoleBuild => {
    built ??= loadConsoleBuild(dir);
    if (built === undefined) {
      throw new AppError("CONSOLE_NOT_BUILT", `the console is not built in ${dir}: run \`node console/build.mjs\` (npm start does)`, { headers: { "retry-after": "5" } });
    }
    return built;
  };
  const consoleCspHeader = consoleCsp([]);
  const portalCspHeader = consoleCsp(ctx.config.CUSTODY_PORTAL_FRAME_ANCESTORS);

  const page = (csp: string, framing: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const file = current().index;
    void reply.header("content-security-policy", csp).header("referrer-policy", "no-referrer");
    if (!framing) void reply.header("x-frame-options", "DENY");
    return send(request, reply, file, "no-cache");
  };
  const hidden = { schema: { hide: true } };
  // Under the prefix, "/" answers both /console and /console/.
  app.get("/", hidden, page(consoleCspHeader, false));
  app.get("/portal", hidden, page(portalCspHeader, true));
  app.get("/assets/:file", hidden, async (request, reply) => {
    const name = (request.params as { file: string }).file;
    const file = current().assets.get(name);
    if (file === undefined) throw new AppError("NOT_FOUND", `no console asset ${name}`, { field: "params.file" });
    return send(request, reply, file, "public, max-age=31536000, immutable");
  });
}
