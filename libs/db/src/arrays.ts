import { sql, type RawBuilder } from "kysely";

/**
 * Array parameters in Postgres's binary format, for the `unnest($n::type[])` columns every batch
 * write is made of.
 *
 * pg sends a JS array as text: `{"…","…"}` with every element quoted and escaped, a bytea as `\x`
 * and twice its length in hex; Postgres then scans that text character by character (array_in) and
 * decodes the hex again. A Buffer parameter pg sends as it is, in binary format, and Postgres reads
 * a binary array (array_recv) by length prefixes. For 200 payloads of 1 KiB the text form cost
 * 3.5 ms per statement on this machine (client and server), the binary form 0.33 ms
 * (docs/benchmarks.md, "Binary array parameters").
 *
 * The element type's OID goes into the array's header, and Postgres refuses an array whose OID is
 * not the one its cast names, so a wrong pairing fails loudly, never stores a misread value.
 */

interface ElementType<T> {
  oid: number;
  /** The element's length in bytes. */
  size: (value: T) => number;
  /** Writes the element at `at` (its `size` bytes). */
  write: (value: T, out: Buffer, at: number) => void;
}

/** Postgres's epoch, 2000-01-01T00:00:00Z, in Unix milliseconds. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function integer(bytes: 2 | 4): ElementType<number> {
  const bound = 2 ** (8 * bytes - 1);
  return {
    oid: bytes === 2 ? 21 : 23,
    size: () => bytes,
    write: (n, out, at) => {
      if (!Number.isInteger(n) || n < -bound || n >= bound) throw new RangeError(`${n} is not an int${bytes}`);
      if (bytes === 2) out.writeInt16BE(n, at);
      else out.writeInt32BE(n, at);
    },
  };
}

function int8(n: number | bigint | string): bigint {
  const v = typeof n === "bigint" ? n : typeof n === "number" ? (Number.isSafeInteger(n) ? BigInt(n) : undefined) : /^-?\d{1,19}$/.test(n) ? BigInt(n) : undefined;
  if (v === undefined || v !== BigInt.asIntN(64, v)) throw new RangeError(`${String(n)} is not an int8`);
  return v;
}

function microsSincePostgresEpoch(d: Date): bigint {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("an invalid Date is not a timestamptz");
  return BigInt(ms - POSTGRES_EPOCH_MS) * 1000n;
}

function uuidHex(s: string): string {
  if (!UUID.test(s)) throw new RangeError(`${JSON.stringify(s)} is not a UUID`);
  return s.replace(/-/g, "");
}

const TYPES = {
  text: { oid: 25, size: (s: string) => Buffer.byteLength(s), write: (s: string, out: Buffer, at: number) => void out.write(s, at, "utf8") },
  bytea: { oid: 17, size: (b: Uint8Array) => b.length, write: (b: Uint8Array, out: Buffer, at: number) => out.set(b, at) },
  int2: integer(2),
  int4: integer(4),
  int8: { oid: 20, size: () => 8, write: (n: number | bigint | string, out: Buffer, at: number) => void out.writeBigInt64BE(int8(n), at) },
  bool: {
    oid: 16,
    size: () => 1,
    write: (v: boolean, out: Buffer, at: number) => {
      out[at] = v ? 1 : 0;
    },
  },
  timestamptz: { oid: 1184, size: () => 8, write: (d: Date, out: Buffer, at: number) => void out.writeBigInt64BE(microsSincePostgresEpoch(d), at) },
  uuid: { oid: 2950, size: () => 16, write: (s: string, out: Buffer, at: number) => void out.write(uuidHex(s), at, 16, "hex") },
  /** Elements are JSON texts, as the text form took them; jsonb's binary form is a version byte (1) and the text. */
  jsonb: {
    oid: 3802,
    size: (s: string) => 1 + Buffer.byteLength(s),
    write: (s: string, out: Buffer, at: number) => {
      out[at] = 1;
      out.write(s, at + 1, "utf8");
    },
  },
} satisfies Record<string, ElementType<never>>;

export type ArrayElementType = keyof typeof TYPES;
export type ArrayValue<K extends ArrayElementType> = Parameters<(typeof TYPES)[K]["write"]>[0];

/** A one-dimensional array (lower bound 1) in Postgres's binary wire format. */
export function encodeArray<K extends ArrayElementType>(type: K, values: ReadonlyArray<ArrayValue<K> | null>): Buffer {
  const { oid, size, write } = TYPES[type] as ElementType<ArrayValue<K>>;
  let total = 20;
  let nulls = 0;
  const sizes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === null) nulls = 1;
    sizes[i] = v === null ? -1 : size(v);
    total += 4 + Math.max(sizes[i]!, 0);
  }
  const out = Buffer.allocUnsafe(total);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(nulls, 4);
  out.writeInt32BE(oid, 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (let i = 0; i < values.length; i++) {
    out.writeInt32BE(sizes[i]!, at);
    at += 4;
    if (sizes[i]! < 0) continue;
    write(values[i]!, out, at);
    at += sizes[i]!;
  }
  return out;
}

/** `$n::type[]` with the values as one binary parameter. */
export function arrayParam<K extends ArrayElementType>(type: K, values: ReadonlyArray<ArrayValue<K> | null>): RawBuilder<unknown> {
  return sql`${sql.val(encodeArray(type, values))}::${sql.raw(type)}[]`;
}

/**
 * The `param` of an INSERT written over array parameters (`entriesInsertSql`, `deliveriesInsertSql`,
 * …) for values at hand: each column's values sent as one binary array of the column's type. A fixed
 * statement gives the same INSERT its slots instead (`fixedAtomicWrite`).
 */
export function columnParams<C extends string>(values: Readonly<Record<C, readonly unknown[]>>): (column: C, type: ArrayElementType) => RawBuilder<unknown> {
  return (column, type) => arrayParam(type, values[column] as ReadonlyArray<ArrayValue<ArrayElementType> | null>);
}

/** Each column of `rows` as an array parameter: `const col = columnsOf(rows)`, then `${col("text", (r) => r.id)}`. */
export function columnsOf<R>(rows: readonly R[]) {
  return <K extends ArrayElementType>(type: K, f: (row: R, index: number) => ArrayValue<K> | null): RawBuilder<unknown> => arrayParam(type, rows.map(f));
}
