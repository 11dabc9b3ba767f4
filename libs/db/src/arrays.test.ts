import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayParam, columnsOf, encodeArray, type ArrayElementType } from "./arrays.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

/** Whether Postgres reads the binary array exactly as it reads pg's text form of the same values. */
describe("binary array parameters", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("arrays");
  });
  afterAll(async () => {
    await t.drop();
  });

  async function sameAsText(type: ArrayElementType, values: readonly unknown[]): Promise<{ same: boolean; binary: string | null; text: string | null }> {
    const { rows } = await sql<{ binary: string | null; text: string | null }>`
      SELECT ${arrayParam(type, values as never[])}::text AS binary, ${sql.val(values)}::${sql.raw(type)}[]::text AS text`.execute(t.db);
    return { same: rows[0]!.binary === rows[0]!.text, ...rows[0]! };
  }

  const cases: Array<[ArrayElementType, unknown[]]> = [
    ["text", ["plain", "", 'quote " and \\ backslash', "{braces},commas", "NULL", "ünï cödé 𝄞 ✓", " spaced ", null, "null"]],
    ["bytea", [Buffer.alloc(0), Buffer.from([0, 1, 0xff, 0x5c, 0x22]), null, Buffer.alloc(70_000, 7)]],
    ["int2", [0, -32_768, 32_767, null]],
    ["int4", [0, 1, -1, 2_147_483_647, -2_147_483_648, null]],
    ["int8", [0, "9223372036854775807", "-9223372036854775808", 2 ** 53 - 1, 12n, null]],
    ["bool", [true, false, null]],
    ["timestamptz", [new Date(0), new Date("1999-12-31T23:59:59.999Z"), new Date("2000-01-01T00:00:00.001Z"), new Date("2026-12-04T20:40:01.123Z"), new Date("9999-12-31T23:59:59.999Z"), null]],
    ["uuid", ["00000000-0000-0000-0000-000000000000", "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff8b86d011b42d00c04fc964ff", null]],
    ["jsonb", ['{"b":1,"a":[true,null,"x\\u00e9\\n\\"y"]}', "1e21", '"ünï"', "null", null]],
  ];
  it.each(cases)("%s: the same values as the text form", async (type, values) => {
    const r = await sameAsText(type, values);
    expect(r.binary).toBe(r.text);
    expect(r.binary).not.toBeNull();
  });

  it("an empty array, and an array of nulls only", async () => {
    expect(await sameAsText("text", [])).toMatchObject({ same: true, binary: "{}" });
    expect(await sameAsText("int4", [null, null])).toMatchObject({ same: true, binary: "{NULL,NULL}" });
  });

  it("unnests rows, column by column, into what a batch write reads", async () => {
    const col = columnsOf([
      { id: "a", n: 1, at: new Date(1_000), body: Buffer.from("x") },
      { id: "b", n: 2, at: new Date(2_000), body: null },
    ]);
    const { rows } = await sql<{ id: string; n: number; at: Date; body: Buffer | null }>`
      SELECT * FROM unnest(${col("text", (r) => r.id)}, ${col("int4", (r) => r.n)}, ${col("timestamptz", (r) => r.at)}, ${col("bytea", (r) => r.body)}) AS u(id, n, at, body)`.execute(t.db);
    expect(rows).toEqual([
      { id: "a", n: 1, at: new Date(1_000), body: Buffer.from("x") },
      { id: "b", n: 2, at: new Date(2_000), body: null },
    ]);
  });

  it("any text and any bytes arrive exactly", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.includes("\u0000"))), { maxLength: 20 }),
        fc.array(fc.option(fc.uint8Array({ maxLength: 64 })), { maxLength: 20 }),
        fc.array(fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { maxLength: 20 }),
        async (texts, bytes, bigs) => {
          const { rows } = await sql<{ texts: Array<string | null>; bytes: Array<Buffer | null>; bigs: Array<string | null> }>`
            SELECT ${arrayParam("text", texts)} AS texts, ${arrayParam("bytea", bytes)} AS bytes, ${arrayParam("int8", bigs)} AS bigs`.execute(t.db);
          expect(rows[0]!.texts).toEqual(texts);
          expect(rows[0]!.bytes.map((b) => (b === null ? null : new Uint8Array(b)))).toEqual(bytes);
          expect(rows[0]!.bigs).toEqual(bigs.map((b) => (b === null ? null : String(b))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("Postgres refuses an array whose element type is not the cast's", async () => {
    await expect(sql`SELECT ${sql.val(encodeArray("int4", [1]))}::int8[]`.execute(t.db)).rejects.toThrow(/array element type 23 \(integer\) instead of expected 20/);
  });

  it("refuses values the type cannot hold, before anything is sent", () => {
    expect(() => encodeArray("int4", [2 ** 31])).toThrow(RangeError);
    expect(() => encodeArray("int4", [1.5])).toThrow(RangeError);
    expect(() => encodeArray("int2", [-32_769])).toThrow(RangeError);
    expect(() => encodeArray("int8", ["9223372036854775808"])).toThrow(RangeError);
    expect(() => encodeArray("int8", [2 ** 53])).toThrow(RangeError);
    expect(() => encodeArray("int8", ["12abc"])).toThrow(RangeError);
    expect(() => encodeArray("timestamptz", [new Date(Number.NaN)])).toThrow(RangeError);
    expect(() => encodeArray("uuid", ["not-a-uuid"])).toThrow(RangeError);
    expect(() => encodeArray("uuid", ["6f9619ff-8b86-d011-b42d-00c04fc964f"])).toThrow(RangeError);
  });
});
