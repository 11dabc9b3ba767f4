import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, type ErrorBody } from "@custody/errors";

/** Translates fastify's own failures into the one error model, so clients only ever see `{error:{code,…}}`. */
function toAppError(err: FastifyError): AppError {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const path = first?.instancePath?.replace(/^\//, "").replaceAll("/", ".");
    const where = err.validationContext ?? "body";
    const field = path ? `${where}.${path}` : where;
    return new AppError("VALIDATION_FAILED", `${field}: ${first?.message ?? "invalid"}`, {
      field,
      details: { issues: err.validation.map((v) => ({ path: v.instancePath, message: v.message })) },
    });
  }
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError("PAYLOAD_TOO_LARGE", "request body is larger than this route accepts", { cause: err });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json", { cause: err });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new AppError("BAD_REQUEST", "request body is not valid JSON", { field: "body", cause: err });
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.code === undefined)) {
    return new AppError("BAD_REQUEST", "request body is not valid JSON", { field: "body", cause: err });
  }
  if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError("BAD_REQUEST", err.message, { status: err.statusCode, cause: err });
  }
  return new AppError("INTERNAL", "internal error", { cause: err });
}

export function errorHandler(err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = err instanceof AppError ? err : toAppError(err);
  if (appError.status >= 500) {
    // 5xx bodies never carry internals; the log keeps the cause with the request id to find it.
    request.log.error({ err: err instanceof AppError ? (err.cause ?? err) : err, code: appError.code }, "request failed");
  } else {
    request.log.info({ code: appError.code, field: appError.field }, appError.message);
  }
  const body: ErrorBody = appError.status >= 500 ? { error: { code: appError.code, message: appError.code === "INTERNAL" ? "internal error" : appError.message } } : appError.toBody();
  if (appError.headers) void reply.headers(appError.headers);
  void reply.status(appError.status).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send(new AppError("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`).toBody());
}
