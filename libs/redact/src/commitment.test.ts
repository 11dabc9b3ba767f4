import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { expectRedactionError, SALT_0_15, SALT_0_15_TEXT } from "./expect.fixture.js";
import { COMMITMENT_DOMAIN, commitmentPreimage, computeCommitment, SALT_SIZE } from "./index.js";
import type { JsonValue } from "./index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Known answers, computed outside this library (Python hashlib over the spelled-out preimage), so a
 * change to the byte format cannot pass by changing both sides at once.
 */
const vectors: Array<{ path: string; value: JsonValue; canonical: string; commitment: string }> = [
  {
    path: "/email",
    value: "alice@example.com",
    canonical: '"alice@example.com"',
    commitment: "afde0732740a35359177bab4560ca0a26208fd211d9effcf047edf2a0f934b5b",
  },
  {
    path: "/result/taxId",
    value: { number: "12345678901", country: "DE" },
    canonical: '{"country":"DE","number":"12345678901"}',
    commitment: "a6c22fddf01cd89823cd3c42b60af3923472eaf2a8148ac18d90ce3274e15f83",
  },
  { path: "/a~1b", value: null, canonical: "null", commitment: "0718e5125c98a4fd6a8380fa6e2de9e7cf052944ed6593201058a51188a9c084" },
  {
    path: "/n",
    value: { b: 1.0, a: [1e21, -0, 0.000001, "\u0000é"] },
    canonical: '{"a":[1e+21,0,0.000001,"\\u0000é"],"b":1}',
    commitment: "ba24c5d0ce267162561279a99820a46f8f9aa809015f7aa7fe04204f37fdca60",
  },
];

describe("commitment", () => {
  it("the salt fixture is 00..0f", () => {
    expect(Buffer.from(SALT_0_15_TEXT, "base64url")).toEqual(Buffer.from(SALT_0_15));
    expect(SALT_SIZE).toBe(16);
    expect(COMMITMENT_DOMAIN).toBe("custody-redaction-v1");
  });

  it.each(vectors)("known answer for $path", ({ path, value, canonical, commitment }) => {
    const expectedPreimage = Buffer.concat([
      Buffer.from("custody-redaction-v1", "ascii"),
      Buffer.from([0]),
      Buffer.from(path, "utf8"),
      Buffer.from([0]),
      Buffer.from(SALT_0_15),
      Buffer.from([0]),
      Buffer.from(canonical, "utf8"),
    ]);
    expect(hex(commitmentPreimage(path, SALT_0_15_TEXT, value))).toBe(expectedPreimage.toString("hex"));
    expect(createHash("sha256").update(expectedPreimage).digest("hex")).toBe(commitment);
    expect(computeCommitment(path, SALT_0_15_TEXT, value)).toBe(commitment);
  });

  it("binds the path, the salt and the value", () => {
    const base = computeCommitment("/email", SALT_0_15_TEXT, "x");
    expect(computeCommitment("/mail", SALT_0_15_TEXT, "x")).not.toBe(base);
    expect(computeCommitment("/email", "AQECAwQFBgcICQoLDA0ODw", "x")).not.toBe(base);
    expect(computeCommitment("/email", SALT_0_15_TEXT, "y")).not.toBe(base);
    // The string "1" and the number 1 are different values.
    expect(computeCommitment("/email", SALT_0_15_TEXT, "1")).not.toBe(computeCommitment("/email", SALT_0_15_TEXT, 1));
  });

  it("validates its inputs", () => {
    expectRedactionError(() => computeCommitment("email", SALT_0_15_TEXT, 1), "BAD_POINTER");
    expectRedactionError(() => computeCommitment("/e", SALT_0_15_TEXT, NaN), "NOT_JSON");
    for (const salt of [
      "",
      SALT_0_15_TEXT + "A", // 23 characters
      SALT_0_15_TEXT.slice(0, 21), // 21 characters
      SALT_0_15_TEXT + "==", // padded
      "AAECAwQFBgcICQoLDA0ODx", // trailing bits set: would decode to the same bytes as ...Dw
      "AAECAwQFBgcICQoLDA0OD+", // standard alphabet
      "AAAAAAAAAAAAAAAAAAAAAAAA", // 18 bytes
    ]) {
      expectRedactionError(() => computeCommitment("/e", salt, 1), "BAD_SALT");
    }
  });
});
