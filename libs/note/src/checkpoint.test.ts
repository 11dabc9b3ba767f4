import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signerFromSeed, signNote, verifierKeyOf } from "./index.js";
import { code } from "./expect.fixture.js";

const ROOT = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
const ROOT_B64 = Buffer.from(ROOT).toString("base64");
const log = signerFromSeed("custody.example/log", new Uint8Array(32).fill(7));
const logV = verifierKeyOf(log);

describe("formatCheckpoint / parseCheckpoint", () => {
  it("formats the tlog-checkpoint body exactly", () => {
    expect(formatCheckpoint({ origin: "custody.example/log", size: 42, rootHash: ROOT })).toBe(`custody.example/log\n42\n${ROOT_B64}\n`);
    expect(formatCheckpoint({ origin: "o", size: 0, rootHash: ROOT, extensions: ["x y", "\u2014 z"] })).toBe(`o\n0\n${ROOT_B64}\nx y\n\u2014 z\n`);
  });

  it("parses the spec example body", () => {
    const cp = parseCheckpoint("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
    expect(cp.origin).toBe("example.com/behind-the-sofa");
    expect(cp.size).toBe(20852163);
    expect(cp.rootHash).toHaveLength(32);
    expect(cp.extensions).toEqual([]);
  });

  it("accepts the largest exact size and origins the spec merely discourages", () => {
    expect(parseCheckpoint(`o\n9007199254740991\n${ROOT_B64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseCheckpoint(`has space+plus\n1\n${ROOT_B64}\n`).origin).toBe("has space+plus");
  });

  it("round-trips arbitrary valid checkpoints", () => {
    const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(line, fc.maxSafeNat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(line, { maxLength: 3 }), (origin, size, rootHash, extensions) => {
        const text = formatCheckpoint({ origin, size, rootHash, extensions });
        expect(parseCheckpoint(text)).toEqual({ origin, size, rootHash, extensions });
      }),
    );
  });

  it.each([
    ["empty", ""],
    ["two lines", `o\n1\n`],
    ["no final newline", `o\n1\n${ROOT_B64}`],
    ["empty origin", `\n1\n${ROOT_B64}\n`],
    ["leading zero", `o\n01\n${ROOT_B64}\n`],
    ["plus sign", `o\n+1\n${ROOT_B64}\n`],
    ["negative", `o\n-1\n${ROOT_B64}\n`],
    ["hex size", `o\n0x1\n${ROOT_B64}\n`],
    ["exponent", `o\n1e3\n${ROOT_B64}\n`],
    ["space in size", `o\n 1\n${ROOT_B64}\n`],
    ["2^53", `o\n9007199254740992\n${ROOT_B64}\n`],
    ["huge size", `o\n${"9".repeat(400)}\n${ROOT_B64}\n`],
    ["31-byte root", `o\n1\n${Buffer.alloc(31).toString("base64")}\n`],
    ["33-byte root", `o\n1\n${Buffer.alloc(33).toString("base64")}\n`],
    ["unpadded root", `o\n1\n${ROOT_B64.replace("=", "")}\n`],
    ["URL-safe root", `o\n1\n${"_".repeat(43)}=\n`],
    ["empty extension line", `o\n1\n${ROOT_B64}\n\next\n`],
    ["trailing blank line", `o\n1\n${ROOT_B64}\n\n`],
    ["CR", `o\r\n1\n${ROOT_B64}\n`],
    ["tab", `o\t\n1\n${ROOT_B64}\n`],
  ])("MALFORMED_CHECKPOINT: %s", (_what, text) => {
    expect(code(() => parseCheckpoint(text))).toBe("MALFORMED_CHECKPOINT");
  });

  it("MALFORMED_CHECKPOINT from formatCheckpoint for values it could not write faithfully", () => {
    const ok = { origin: "o", size: 1, rootHash: ROOT };
    for (const bad of [
      { ...ok, origin: "" },
      { ...ok, origin: "a\nb" },
      { ...ok, size: -1 },
      { ...ok, size: 1.5 },
      { ...ok, size: 2 ** 53 },
      { ...ok, rootHash: new Uint8Array(31) },
      { ...ok, extensions: [""] },
      { ...ok, extensions: ["a\nb"] },
      { ...ok, extensions: ["\u0000"] },
    ]) {
      expect(code(() => formatCheckpoint(bad))).toBe("MALFORMED_CHECKPOINT");
    }
  });

  it("NOTE_TOO_LARGE for an oversized text", () => {
    expect(code(() => parseCheckpoint(`o\n1\n${ROOT_B64}\n${"e".repeat(2 << 20)}\n`))).toBe("NOTE_TOO_LARGE");
  });
});

describe("openCheckpoint", () => {
  const note = signNote(formatCheckpoint({ origin: "custody.example/log", size: 5, rootHash: ROOT }), [log]);

  it("verifies then parses", () => {
    expect(openCheckpoint(note, logV, "custody.example/log")).toEqual({ origin: "custody.example/log", size: 5, rootHash: ROOT, extensions: [] });
    expect(openCheckpoint(note, logV).size).toBe(5);
  });

  it("ORIGIN_MISMATCH when the origin is not the expected one", () => {
    expect(code(() => openCheckpoint(note, logV, "custody.example/other"))).toBe("ORIGIN_MISMATCH");
  });

  it("checks the signature before looking at the text", () => {
    const other = verifierKeyOf(signerFromSeed("custody.example/log", new Uint8Array(32).fill(8)));
    expect(code(() => openCheckpoint(note, other))).toBe("NO_VERIFIED_SIGNATURE");
    // A validly signed note whose text is not a checkpoint.
    const notCp = signNote("just a note\n", [log]);
    expect(code(() => openCheckpoint(notCp, logV))).toBe("MALFORMED_CHECKPOINT");
    // Tampered size.
    expect(code(() => openCheckpoint(note.replace("\n5\n", "\n6\n"), logV))).toBe("SIGNATURE_INVALID");
  });
});
