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

/**
 * Where a fixed statement's values go: `V` is the shape of the values each run gives, single values
 * by name and groups of columns (one JS array each, e.g. `entryColumns`' result) by group name.
 */
export interface Slots<V extends object> {
  /** `$n::type[]`: the JS array `values[group][column]`, sent as one binary array (`encodeArray`). */
  array<G extends keyof V & string>(group: G, column: keyof V[G] & string, type: ArrayElementType): RawBuilder<unknown>;
  /** `$n`: `values[name]`, or `values[name][member]`, sent as pg sends it. */
  value<K extends keyof V & string>(name: K, member?: keyof V[K] & string): RawBuilder<unknown>;
}

class Slot {
  constructor(
    readonly name: string,
    readonly member: string | undefined,
    readonly type: ArrayElementType | undefined,
  ) {}

  of(values: object): unknown {
    const v = (values as Record<string, unknown>)[this.name];
    return this.member === undefined ? v : (v as Record<string, unknown>)[this.member];
  }
}

/**
 * `writeAtomically` for a statement whose text never changes, only its values — every hot write
 * passes its rows as array parameters, so its text is the same for one row or a thousand. kysely
 * builds and compiles it once, on first use, with a slot for each value; each run then sends that
 * same text (prepared once per connection where `plans.ts` applies) with the values in the slots'
 * order. Building and compiling the API's ingest statement afresh cost the sending process 105–167
 * µs of CPU per statement, a third of what writing one event cost it (docs/benchmarks.md, `npm run
 * bench -- ingest-write`); the recorder's and dispatch's, about 85 and 95 µs per batch. `build` runs
 * once: a value it puts in the statement other than through a slot is sent unchanged by every run.
 */
export function fixedAtomicWrite<V extends object>(build: (slots: Slots<V>) => readonly WritePart[]): (db: Kysely<Database>, values: V) => Promise<void> {
  let compiled: { text: string; params: ReadonlyArray<Slot | { constant: unknown }> } | undefined;
  const slots: Slots<V> = {
    array: (group, column, type) => sql`${sql.val(new Slot(group, column, type))}::${sql.raw(type)}[]`,
    value: (name, member) => sql.val(new Slot(name, member, undefined)),
  };
  return async (db, values) => {
    if (compiled === undefined) {
      const query = atomicStatement(build(slots)).compile(db);
      compiled = { text: query.sql, params: query.parameters.map((p) => (p instanceof Slot ? p : { constant: p })) };
    }
    const params = compiled.params.map((p) => {
      if (!(p instanceof Slot)) return p.constant;
      const v = p.of(values);
      return p.type === undefined ? v : encodeArray(p.type, v as ReadonlyArray<ArrayValue<ArrayElementType> | null>);
    });
    await conflictsAsWriteConflict(db.executeQuery(CompiledQuery.raw(compiled.text, params)));
  };
}
