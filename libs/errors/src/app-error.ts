import { ErrorCodes, type ErrorCode } from "./codes.js";

export interface AppErrorOptions {
  /** The request field at fault, as a dotted path or JSON pointer (e.g. `body.url`). */
  field?: string;
  /** Extra machine-readable detail returned to the client (never secrets, never internals). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the registry status, for the rare code that maps to more than one status. */
  status?: number;
  /** Response headers the error implies, e.g. `Retry-After` on RATE_LIMITED. */
  headers?: Record<string, string>;
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string; details?: Record<string, unknown> };
}

/** The one error type services throw on purpose. Anything else reaching a handler is a bug (500). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = options.status ?? ErrorCodes[code];
    this.field = options.field;
    this.details = options.details;
    this.headers = options.headers;
  }

  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
