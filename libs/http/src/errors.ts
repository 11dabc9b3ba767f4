import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AppError, type ErrorBody } from "@custody/errors";

/** Seconds a client is asked to wait (`Retry-After`) when the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// Socket errors of a connection to Postgres that could not be made or broke. The API and the proof
// service open no other connections while answering a request (target checks resolve names but do
// not connect), so these can only come from the database.
const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);
// node-postgres and pg-pool say so in their messages only.
const CONNECTION_MESSAGES = [
  "Connection terminated", // unexpectedly / due to connection timeout
  "timeout exceeded when trying to connect", // pg-pool's connectionTimeoutMillis
  "is not queryable", // a client whose connection failed or was closed
  "Cannot use a pool after calling end on the pool",
];

/**
 * True when `err` (or what it wraps) says the database cannot be reached right now, as opposed to a
 * statement that failed: connection refused, reset or timed out, a connection terminated, SQLSTATE
 * class 08 (connection exception), 57P01–57P05 (admin or crash shutdown, cannot connect now, database
 * dropped, idle session timeout) and 53300 (too many connections).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string") {
      if (CONNECTION_ERRNOS.has(code) || /^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-5]$/.test(code) || code === "53300") return true;
    }
    if (typeof message === "string" && CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
    if (cause !== undefined) queue.push(cause);
    // Node's connect with several addresses (happy eyeballs) fails with an AggregateError.
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return false;
}

function databaseUnavailable(cause: unknown): AppError {
  return new AppError("DATABASE_UNAVAILABLE", `the database is unavailable; retry in ${DATABASE_RETRY_AFTER_SECONDS} s`, {
    cause,
    headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

/** Translates fastify's own failures into the one error model, so clients only ever see `{error:{code,…}}`. */
function toAppError(err: FastifyError): AppError {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    let path = first?.instancePath?.replace(/^\//, "").replaceAll("/", ".");
    // An unknown member (strict objects): name it, not the object that holds it.
    const unknown = first?.keyword === "unrecognized_keys" ? (first.params as { keys?: unknown }).keys : undefined;
    if (Array.isArray(unknown) && typeof unknown[0] === "string") path = path ? `${path}.${unknown[0]}` : unknown[0];
    const where = err.validationContext ?? "body";
    const field = path ? `${where}.${path}` : where;
    const message = Array.isArray(unknown) ? "is not a field of this request" : (first?.message ?? "invalid");
    return new AppError("VALIDATION_FAILED", `${field}: ${message}`, {
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
    case "FST_ERR_BAD_URL":
      return new AppError("BAD_REQUEST", "the URL path is not valid percent-encoded UTF-8", { field: "url", cause: err });
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new AppError("URI_TOO_LONG", "a path segment of the URL is longer than any identifier", { field: "url", cause: err });
  }
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err);
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.code === undefined)) {
    return new AppError("BAD_REQUEST", "request body is not valid JSON", { field: "body", cause: err });
  }
  if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError("BAD_REQUEST", err.message, { status: err.statusCode, cause: err });
  }
  return new AppError("INTERNAL", "internal error", { cause: err });
}

export function errorHandler(err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): void {
  let appError = err instanceof AppError ? err : toAppError(err);
  // An internal error wrapping a lost database connection is the outage, not a bug.
  if (appError.code === "INTERNAL" && err instanceof AppError && isDatabaseUnavailable(err.cause)) appError = databaseUnavailable(err.cause);
  if (appError.status === 503) {
    // An outage answers every request this way: one line each, without a stack.
    request.log.warn({ code: appError.code, reason: (appError.cause as Error | undefined)?.message }, appError.message);
  } else if (appError.status >= 500) {
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

/**
 * Requests Node's HTTP parser refuses before fastify sees them (a malformed request line or header,
 * a header with a control character such as U+0000, headers over the size limit, a request not
 * received in time): answered in the one error model, then the connection is closed as Node does.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const appError =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? new AppError("REQUEST_TIMEOUT", "the request was not received in time")
      : err.code === "HPE_HEADER_OVERFLOW"
        ? new AppError("HEADERS_TOO_LARGE", "the request line and headers are larger than the server accepts")
        : new AppError("BAD_REQUEST", "malformed HTTP request", { details: { reason: err.code ?? "HPE_UNKNOWN" } });
  const body = JSON.stringify(appError.toBody());
  // As Node does: only when no response on this connection has started (it cannot take another).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? "Error"}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
