import { z } from "zod";

/**
 * Zod pieces every route group shares. Response schemas avoid transforms: the serializer encodes
 * through them, and a one-way transform cannot be encoded.
 */

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().describe("Stable SCREAMING_SNAKE code, e.g. TARGET_REFUSED; branch on this, not on the message."),
      message: z.string().describe("Human-readable explanation; wording may change."),
      field: z.string().optional().describe("The request field at fault, e.g. `body.url`."),
      details: z.record(z.string(), z.unknown()).optional().describe("Machine-readable detail specific to the code."),
    }),
  })
  .describe("The one error model of the API.");

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422;

/** The documented answer of any route while Postgres cannot be reached. */
export const unavailableResponse = errorBody.describe(
  "DATABASE_UNAVAILABLE: the database cannot be reached (down, restarting); retry after the `Retry-After` header's seconds. SHUTTING_DOWN: this instance is draining; retry.",
);

/**
 * Error responses for the OpenAPI document; every authenticated route can answer 400, 401 and 403,
 * and every route 503 while the database cannot be reached.
 */
export function errorResponses<S extends ErrorStatus>(...extra: S[]): Record<400 | 401 | 403 | 503 | S, typeof errorBody> {
  const out: Record<number, typeof errorBody> = {};
  for (const status of [400, 401, 403, ...extra]) out[status] = errorBody;
  out[503] = unavailableResponse;
  return out as Record<400 | 401 | 403 | 503 | S, typeof errorBody>;
}

export const bearerSecurity = [{ bearer: [] as string[] }];

export const timestamp = z.iso.datetime().describe("RFC 3339 timestamp, UTC.");

export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** A query flag: only the literal strings "true" and "false" (z.coerce.boolean would read "false" as true). */
export const queryFlag = z.enum(["true", "false"]).transform((v) => v === "true");

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50).describe("Items per page, 1–100."),
  cursor: z.string().min(1).max(512).optional().describe("Opaque `nextCursor` of the previous page."),
};

export const nextCursor = z.string().nullable().describe("Pass as `cursor` to get the next page; null on the last page.");
