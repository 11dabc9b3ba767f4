import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "@custody/errors";
import { checkJsonText, decimalValue, fieldAt, firstInexactNumber, inexactReason, nulField } from "./json-body.js";

function refusal(text: string): AppError | undefined {
  try {
    checkJsonText(text, JSON.parse(text));
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

describe("numbers a double would change", () => {
  it("refuses integers beyond ±(2^53 − 1) written as integers", () => {
    for (const t of ["9007199254740992", "9007199254740993", "-9007199254740993", "12345678901234567890", "100000000000000000000"]) expect(inexactReason(t), t).toBe("UNSAFE_INTEGER");
    for (const t of ["9007199254740991", "-9007199254740991", "0", "-0", "42"]) expect(inexactReason(t), t).toBeUndefined();
  });

  it("refuses numbers that overflow, underflow or lose digits; accepts other spellings of the same value", () => {
    expect(inexactReason("1e400")).toBe("OVERFLOW");
    expect(inexactReason("-1.5E+309")).toBe("OVERFLOW");
    expect(inexactReason("1e-400")).toBe("UNDERFLOW");
    expect(inexactReason("-2.5e-330")).toBe("UNDERFLOW");
    expect(inexactReason("0.30000000000000001")).toBe("PRECISION");
    expect(inexactReason("9007199254740993.0")).toBe("PRECISION");
    expect(inexactReason("1.23456789012345678e-320")).toBe("PRECISION"); // subnormal: fewer digits than given
    // The exact decimal value of the double nearest 0.1 is refused too: it would be ledgered as 0.1.
    expect(inexactReason("0.1000000000000000055511151231257827021181583404541015625")).toBe("PRECISION");
    for (const t of ["1.0", "1E2", "1e+2", "100e-2", "0.1", "0.30000000000000004", "1e300", "6.02214076e23", "5e-324", "-0.0", "0e999", "1.7976931348623157e308", "9007199254740994.0"]) {
      expect(inexactReason(t), t).toBeUndefined();
    }
  });

  it("accepts every number JavaScript writes, in each spelling JSON allows", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const shortest = String(x);
        if (Number.isInteger(x) && !/[.e]/.test(shortest) && !Number.isSafeInteger(x)) return; // rule 1: written as a big integer
        expect(inexactReason(shortest)).toBeUndefined();
        expect(inexactReason(x.toExponential())).toBeUndefined();
        expect(inexactReason(`${shortest}${shortest.includes(".") || shortest.includes("e") ? "" : ".0"}`)).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it("compares decimal values, not spellings", () => {
    expect(decimalValue("1.50e1")).toBe(decimalValue("15"));
    expect(decimalValue("-0.00120")).toBe("-12e-4");
    expect(decimalValue("0.000")).toBe("0");
    expect(decimalValue("-0")).toBe("0");
    expect(decimalValue("1e+21")).toBe("1e21");
  });

  it("finds number tokens outside strings only", () => {
    const text = '{"a":"9007199254740993","b":"1e400","c\\"":"x\\\\","d":1e-400}';
    expect(firstInexactNumber(text)).toEqual({ offset: text.lastIndexOf("1e-400"), literal: "1e-400", reason: "UNDERFLOW" });
    expect(firstInexactNumber('{"a":[1, 2.5e3, -0.5]}')).toBeUndefined();
  });

  it("names the field of the refused number, in objects and arrays", () => {
    const text = '{"type":"t","data":{"a":[1,{"b":2},[3, 9007199254740993]],"x\\"y":0}}';
    const at = firstInexactNumber(text)!.offset;
    expect(fieldAt(text, at)).toBe("body.data.a.2.1");
    const err = refusal(text)!;
    expect(err.code).toBe("NUMBER_NOT_EXACT");
    expect(err.status).toBe(422);
    expect(err.toBody()).toMatchObject({ error: { code: "NUMBER_NOT_EXACT", field: "body.data.a.2.1", details: { reason: "UNSAFE_INTEGER", literal: "9007199254740993" } } });
    expect(refusal('{ "data" : { "tiny" :\n 1e-400\n } }')?.field).toBe("body.data.tiny");
    expect(refusal('{"k\\u0022": [0, 1e400]}')?.field).toBe('body.k".1');
  });

  it("lets through bodies whose long digits and exponents are inside strings, and ordinary numbers", () => {
    expect(refusal('{"sha":"30e6c810aa1e5","card":"4111111111111111111","n":"1e400","m":12.5,"i":-3}')).toBeUndefined();
    expect(refusal('{"pi":3.141592653589793,"third":0.3333333333333333,"sum":0.30000000000000004}')).toBeUndefined();
  });
});

describe("U+0000", () => {
  it("is refused in a string or a member name, naming the field; the escaped text \\\\u0000 is not U+0000", () => {
    expect(refusal('{"description":"a\\u0000b"}')?.toBody()).toEqual({ error: { code: "VALIDATION_FAILED", message: "body.description must not contain the character U+0000", field: "body.description" } });
    expect(refusal('{"data":{"list":["ok",{"deep":"\\u0000"}]}}')?.field).toBe("body.data.list.1.deep");
    expect(refusal('{"data":{"k\\u0000":1}}')?.field).toBe("body.data.k\\u0000");
    expect(refusal('{"text":"\\\\u0000"}')).toBeUndefined();
  });

  it("walks deep documents without recursion", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}"\\u0000"${"]".repeat(100_000)}`) as unknown;
    expect(nulField(deep, "body")).toMatch(/^body(\.0)+$/);
  });
});
