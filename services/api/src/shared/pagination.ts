import { sql } from "@custody/db";
import { AppError } from "@custody/errors";

/**
 * Opaque keyset cursors. A cursor is the sort key of the last row of a page, so pages stay stable
 * while rows are added, and it is opaque (base64url JSON) so its form can change without breaking
 * clients that only pass it back.
 */

type Raw<T> = ReturnType<typeof sql<T>>;

export function encodeCursor(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values), "utf8").toString("base64url");
}

export function decodeCursor(raw: string | undefined, arity: number): string[] | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== arity || !parsed.every((v) => typeof v === "string")) {
    throw new AppError("VALIDATION_FAILED", "cursor is not one this API issued", { field: "query.cursor" });
  }
  return parsed as string[];
}

/**
 * `created_at` to the microsecond, as text. A JS Date keeps only milliseconds, so a cursor built from
 * one could skip or repeat rows created within the same millisecond.
 */
export const exactCreatedAt: Raw<string> = sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly after a `(created_at, id)` cursor, in `ORDER BY created_at, id`. */
export function afterCreatedCursor(cursor: readonly string[]): Raw<boolean> {
  const [at, id] = cursor;
  if (Number.isNaN(Date.parse(at ?? ""))) throw new AppError("VALIDATION_FAILED", "cursor is not one this API issued", { field: "query.cursor" });
  return sql<boolean>`(created_at, id) > (${at}::timestamptz, ${id})`;
}

/** Splits a `limit + 1` fetch into the page and the cursor of its last row, if there is more. */
export function pageOf<R>(rows: R[], limit: number, cursorOf: (row: R) => readonly string[]): { page: R[]; nextCursor: string | null } {
  if (rows.length <= limit) return { page: rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { page, nextCursor: encodeCursor(cursorOf(page[page.length - 1]!)) };
}
