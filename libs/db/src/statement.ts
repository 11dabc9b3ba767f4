import { CompiledQuery, sql, type Kysely, type RawBuilder } from "kysely";
import { encodeArray, type ArrayElementType, type ArrayValue } from "./arrays.js";
import type { Database } from "./tables.js";

/** One data-modifying part of a statement, named so later parts can read what it returned. */
export interface WritePart {
  name: string;
  sql: RawBuilder<unknown>;
  /** The rows its RETURNING must yield (a number, or a fixed statement's slot); any other count undoes the whole statement. */
  expect?: { rows: number | RawBuilder<unknown>; what: string };
}

/**
 * A part of the statement produced other rows than the caller expected — a row another process made
 * meanwhile (ON CONFLICT DO NOTHING skipped it). Nothing of the statement was written.
 */
export class WriteConflict extends Error {
  override readonly name = "WriteConflict";
}

/**
 * Runs the parts as one statement (`WITH a AS (…), b AS (…) SELECT …`), in one round trip, atomic
 * even outside a transaction: each expected count is checked by custody_expect (migration 0006),
 * which raises — undoing every part — when a count differs. A batch and its ledger entry are thus
 * stored together or not at all without a BEGIN/COMMIT of their own.
 */
export async function writeAtomically(db: Kysely<Database>, parts: readonly WritePart[]): Promise<void> {
  if (parts.length === 0) return;
  await conflictsAsWriteConflict(atomicStatement(parts).execute(db));
}

function atomicStatement(parts: readonly WritePart[]): RawBuilder<unknown> {
  const ctes = sql.join(parts.map((p) => sql`${sql.ref(p.name)} AS (${p.sql})`));
  const checks = parts.filter((p) => p.expect !== undefined);
  const select = checks.length === 0 ? sql`1` : sql.join(checks.map((p) => sql`custody_expect((SELECT count(*) FROM ${sql.ref(p.name)}), ${p.expect!.rows}, ${p.expect!.what})`));
  return sql`WITH ${ctes} SELECT ${select}`;
}

async function conflictsAsWriteConflict(run: Promise<unknown>): Promise<void> {
  try {
    await run;
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "40001" && err.message.startsWith("CUSTODY_CONFLICT")) {
      throw new WriteConflict(err.message.slice("CUSTODY_CONFLICT: ".length), { cause: err });
    }
    throw err;
  }
}

/** Where a fixed statement's values go, by name: an array parameter of a type, or a single value. */
export interface Slots<N extends string> {
  /** `$n::type[]`: the value given for `name` is a JS array, sent as one binary array (`encodeArray`). */
  array(name: N, type: ArrayElementType): RawBuilder<unknown>;
  /** `$n`: the value given for `name`, sent as pg sends it. */
  value(name: N): RawBuilder<unknown>;
}

class Slot {
  constructor(
    readonly name: string,
    readonly type: ArrayElementType | undefined,
  ) {}
}

/**
 * `writeAtomically` for a statement whose text never changes, only its values — every hot write
 * passes its rows as array parameters, so its text is the same for one row or a thousand. kysely
 * builds and compiles it once, on first use, with a slot for each value; each run then sends that
 * same text (prepared once per connection where `plans.ts` applies) with the values in the slots'
 * order. Building and compiling the API's ingest statement afresh cost the sending process 105–167
 * µs of CPU per statement, a third of what writing one event cost it (docs/benchmarks.md, `npm run
 * bench -- ingest-write`); the recorder's and dispatch's, about 85 and 95 µs per batch. `build` runs once: a value it puts in the statement other than through a
 * slot is sent unchanged by every run.
 */
export function fixedAtomicWrite<N extends string>(build: (slots: Slots<N>) => readonly WritePart[]): (db: Kysely<Database>, values: Readonly<Record<N, unknown>>) => Promise<void> {
  let compiled: { text: string; params: ReadonlyArray<Slot | { constant: unknown }> } | undefined;
  const slots: Slots<N> = {
    array: (name, type) => sql`${sql.val(new Slot(name, type))}::${sql.raw(type)}[]`,
    value: (name) => sql.val(new Slot(name, undefined)),
  };
  return async (db, values) => {
    if (compiled === undefined) {
      const query = atomicStatement(build(slots)).compile(db);
      compiled = { text: query.sql, params: query.parameters.map((p) => (p instanceof Slot ? p : { constant: p })) };
    }
    const params = compiled.params.map((p) => {
      if (!(p instanceof Slot)) return p.constant;
      const v = values[p.name as N];
      return p.type === undefined ? v : encodeArray(p.type, v as ReadonlyArray<ArrayValue<ArrayElementType> | null>);
    });
    await conflictsAsWriteConflict(db.executeQuery(CompiledQuery.raw(compiled.text, params)));
  };
}
