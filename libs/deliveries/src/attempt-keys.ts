import { columnsOf, sql, type RawBuilder } from "@custody/db";

/** `keys` as a FROM item, `k(delivery_id, attempt_no)`, its two columns sent as binary arrays. */
export function attemptKeysTable(keys: ReadonlyArray<{ deliveryId: string; attemptNo: number }>): RawBuilder<unknown> {
  const col = columnsOf(keys);
  return sql`unnest(${col("text", (k) => k.deliveryId)}, ${col("int4", (k) => k.attemptNo)}) AS k(delivery_id, attempt_no)`;
}
