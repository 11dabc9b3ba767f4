import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "@custody/log";
import { errorHandler, notFoundHandler } from "./errors.js";
import { registerHealth, type ReadinessCheck } from "./health.js";

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
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // fastify's two lines per request ("incoming", "completed") cost more than the ingest itself at
    // thousands of requests a second; one access line at debug level (below) replaces them, and
    // failures are logged by the error handler at info (4xx) and error (5xx).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  // JSON in, JSON out: any other body type is refused with 415 rather than handed to a route as a string.
  app.removeContentTypeParser("text/plain");
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
