import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { AppError } from "@custody/errors";
import type { Logger } from "@custody/log";
import { clientErrorHandler, errorHandler, notFoundHandler } from "./errors.js";
import { registerHealth, type ReadinessCheck } from "./health.js";
import { checkJsonText } from "./json-body.js";

// biome-ignore lint/suspicious/noExplicitAny: any raw server, request and reply types; only the logger and the type provider are fixed.
export type HttpApp = FastifyInstance<any, any, any, Logger, ZodTypeProvider>;

export interface HttpAppOptions {
  logger: Logger;
  /** Largest request body accepted, in bytes; routes may lower it. */
  bodyLimit: number;
  readiness: Record<string, ReadinessCheck>;
  /** Title and summary of the OpenAPI document served at `/openapi.json` and `/docs`. */
  openapi: { title: string; description: string; version: string };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Longest path parameter the router matches. Above every identifier's own limit (event ids are 128
 * characters), so an over-long id is refused by its schema with the field named; a longer segment
 * still is 414 URI_TOO_LONG.
 */
const MAX_PARAM_LENGTH = 1024;

/** The first value of `values` (params, query or headers) holding U+0000, as `where.name`. */
function nulIn(values: unknown, where: string): string | undefined {
  if (values === null || typeof values !== "object") return undefined;
  // for…in, not Object.entries: this runs on every request's headers and allocates nothing.
  for (const name in values) {
    const value = (values as Record<string, unknown>)[name];
    if (typeof value === "string" ? value.includes("\u0000") : Array.isArray(value) && value.some((v) => typeof v === "string" && v.includes("\u0000"))) {
      return `${where}.${name}`;
    }
  }
  return undefined;
}

/** preValidation of a mutation without a body schema: nothing, or an empty object, is all it takes. */
async function refuseBody(request: { body: unknown }): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  if (typeof body === "object" && !Array.isArray(body)) {
    const [name] = Object.keys(body);
    if (name === undefined) return;
    throw new AppError("VALIDATION_FAILED", `body.${name}: is not a field of this request (it takes no body)`, { field: `body.${name}` });
  }
  throw new AppError("VALIDATION_FAILED", "body: this request takes no body", { field: "body" });
}

/**
 * Refuses U+0000 in path parameters, the query and headers (Postgres text cannot hold it) with 400
 * naming the field. Only `%00` in the URL can put it in params or the query, so they are looked at
 * only then; headers cannot carry it over HTTP (Node's parser refuses the request), only through
 * `inject`, and a look at a dozen strings costs nothing.
 */
function refuseNul(request: { raw: { url?: string }; params: unknown; query: unknown; headers: Record<string, string | string[] | undefined> }): void {
  const url = request.raw.url ?? "";
  if (url.includes("%00") || url.includes("\u0000")) {
    const field = nulIn(request.params, "params") ?? nulIn(request.query, "query");
    if (field !== undefined) throw new AppError("VALIDATION_FAILED", `${field} must not contain the character U+0000`, { field });
  }
  const field = nulIn(request.headers, "headers");
  if (field !== undefined) throw new AppError("VALIDATION_FAILED", `${field} must not contain the character U+0000`, { field });
}

/**
 * The fastify instance every HTTP service starts from: zod validation, the one error model, request ids,
 * health routes and an OpenAPI 3 document generated from the routes' zod schemas. It never listens:
 * `serve` does that, and tests use `inject`. Routes must be added after this resolves, so the
 * OpenAPI generator sees them.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Honour a caller's request id when it is sane, so one id follows a request across systems.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // While closing, requests still arriving on open connections are answered by the hook below in
    // the error model (fastify's own 503 is not).
    return503OnClosing: false,
    forceCloseConnections: "idle",
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Failures before routing (bad percent-encoding, an over-long path segment) and requests Node's
    // parser refuses: the same error model as everything else.
    frameworkErrors: (err, request, reply) => errorHandler(err, request, reply),
    clientErrorHandler,
    // fastify's two lines per request ("incoming", "completed") cost more than the ingest itself at
    // thousands of requests a second; one access line at debug level (below) replaces them, and
    // failures are logged by the error handler at info (4xx) and error (5xx).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  // JSON in, JSON out: any other body type is refused with 415 rather than handed to a route as a string.
  app.removeContentTypeParser("text/plain");
  // fastify's JSON parser (prototype-poisoning checks included), then the checks that need the text:
  // U+0000 and numbers a double would change (json-body.ts).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, text, done) => {
    parseJson(request, text as string, (err, value) => {
      if (err) return done(err, undefined);
      try {
        checkJsonText(text as string, value);
      } catch (checkErr) {
        return done(checkErr as Error, undefined);
      }
      done(null, value);
    });
  });
  // A mutation that declares no body takes none: fields sent to it would be ignored silently, so
  // anything but nothing or `{}` is refused, as an unknown field is where a body is declared.
  app.addHook("onRoute", (route) => {
    if (route.schema?.body !== undefined || ["GET", "HEAD", "OPTIONS"].some((m) => (Array.isArray(route.method) ? route.method.includes(m) : route.method === m))) return;
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [...existing, refuseBody];
  });
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", (request, reply, done) => {
    if (closing) {
      void reply.header("connection", "close");
      return done(new AppError("SHUTTING_DOWN", "this instance is shutting down; retry", { headers: { "retry-after": "1" } }));
    }
    try {
      refuseNul(request);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
  // `Expect:` other than 100-continue: Node answers 417 with an empty body unless someone listens.
  app.server.on("checkExpectation", (req, res) => {
    const body = JSON.stringify(new AppError("EXPECTATION_FAILED", `the server does not support Expect: ${String(req.headers.expect)}`, { field: "headers.expect" }).toBody());
    res.writeHead(417, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" }).end(body);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook("onSend", async (request, reply) => {
    void reply.header("x-request-id", request.id);
  });
  if (options.logger.isLevelEnabled("debug")) {
    app.addHook("onResponse", async (request, reply) => {
      request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, "request completed");
    });
  }
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: options.openapi,
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key: ck_live_… or ck_test_…" } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  registerHealth(app, options.readiness);
  return app as HttpApp;
}
