import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCheckpoint, formatTlogProof, MAX_PROOF_HASHES, MAX_TLOG_PROOF_SIZE, openTlogProof, parseTlogProof, signerFromSeed, signNote, TLOG_PROOF_HEADER, verifierKeyOf } from "./index.js";
import { code } from "./expect.fixture.js";

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const hash = (n: number) => new Uint8Array(32).fill(n);
const log = signerFromSeed("example.com/fancylog", new Uint8Array(32).fill(1));
const logV = verifierKeyOf(log);
const witness = signerFromSeed("witness1.example", new Uint8Array(32).fill(2));
const checkpointNote = signNote(formatCheckpoint({ origin: "example.com/fancylog", size: 109482, rootHash: hash(9) }), [log, witness]);

describe("tlog-proof@v1 layout", () => {
  it("writes the layout of the spec example (extra, index, hashes, empty line, checkpoint verbatim)", () => {
    const extra = new TextEncoder().encode("age-v1.2.1-darwin-arm64.tar.gz");
    const text = formatTlogProof({ index: 73894, proof: [hash(1), hash(2), hash(3)], checkpointNote, extra });
    expect(text).toBe(`${TLOG_PROOF_HEADER}\nextra ${b64(extra)}\nindex 73894\n${b64(hash(1))}\n${b64(hash(2))}\n${b64(hash(3))}\n\n${checkpointNote}`);
    const back = parseTlogProof(text);
    expect(back).toEqual({ index: 73894, proof: [hash(1), hash(2), hash(3)], checkpointNote, extra });
  });

  it("omits the extra line when there is no (or empty) extra data, and allows zero hashes", () => {
    const small = signNote(formatCheckpoint({ origin: "example.com/fancylog", size: 1, rootHash: hash(9) }), [log]);
    const text = formatTlogProof({ index: 0, proof: [], checkpointNote: small, extra: new Uint8Array(0) });
    expect(text).toBe(`${TLOG_PROOF_HEADER}\nindex 0\n\n${small}`);
    expect(parseTlogProof(text)).toEqual({ index: 0, proof: [], checkpointNote: small });
    expect("extra" in parseTlogProof(text)).toBe(false);
  });

  it("accepts bytes input", () => {
    const text = formatTlogProof({ index: 7, proof: [hash(4)], checkpointNote });
    expect(parseTlogProof(new TextEncoder().encode(text)).index).toBe(7);
  });

  it("round-trips arbitrary bundles", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 109481 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 20 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        (index, proof, extra) => {
          const p = extra === undefined ? { index, proof, checkpointNote } : { index, proof, checkpointNote, extra };
          expect(parseTlogProof(formatTlogProof(p))).toEqual(p);
        },
      ),
    );
  });

  it("openTlogProof verifies the checkpoint (with cosignatures ignored) and the origin", () => {
    const text = formatTlogProof({ index: 5, proof: [hash(1)], checkpointNote, extra: Uint8Array.of(1) });
    const opened = openTlogProof(text, logV, "example.com/fancylog");
    expect(opened.checkpoint.size).toBe(109482);
    expect(opened.extra).toEqual(Uint8Array.of(1));
    expect(code(() => openTlogProof(text, logV, "example.com/other"))).toBe("ORIGIN_MISMATCH");
    expect(code(() => openTlogProof(text, verifierKeyOf(signerFromSeed("example.com/fancylog", hash(3)))))).toBe("NO_VERIFIED_SIGNATURE");
    expect(code(() => openTlogProof(text.replace("109482", "109483"), logV))).toBe("SIGNATURE_INVALID");
  });
});

describe("parseTlogProof rejects", () => {
  const H = b64(hash(1));
  const tail = `\n${checkpointNote}`;
  it.each([
    ["missing header", `index 0\n${H}\n${tail}`],
    ["wrong version", `c2sp.org/tlog-proof@v2\nindex 0\n${tail}`],
    ["header with CR", `${TLOG_PROOF_HEADER}\r\nindex 0\n${tail}`],
    ["missing index", `${TLOG_PROOF_HEADER}\n${H}\n${tail}`],
    ["header then blank line", `${TLOG_PROOF_HEADER}\n${tail}`],
    ["index with leading zero", `${TLOG_PROOF_HEADER}\nindex 01\n${tail}`],
    ["negative index", `${TLOG_PROOF_HEADER}\nindex -1\n${tail}`],
    ["non-numeric index", `${TLOG_PROOF_HEADER}\nindex notanumber\n${tail}`],
    ["index beyond 2^53-1", `${TLOG_PROOF_HEADER}\nindex 9007199254740992\n${tail}`],
    ["index two spaces", `${TLOG_PROOF_HEADER}\nindex  0\n${tail}`],
    ["index == checkpoint size", `${TLOG_PROOF_HEADER}\nindex 109482\n${tail}`],
    ["extra after index", `${TLOG_PROOF_HEADER}\nindex 0\nextra AA==\n${tail}`],
    ["extra not base64", `${TLOG_PROOF_HEADER}\nextra not-valid-base64!!!\nindex 0\n${tail}`],
    ["extra non-canonical", `${TLOG_PROOF_HEADER}\nextra AB==\nindex 0\n${tail}`],
    ["empty extra line", `${TLOG_PROOF_HEADER}\nextra \nindex 0\n${tail}`],
    ["16-byte hash", `${TLOG_PROOF_HEADER}\nindex 0\n${b64(new Uint8Array(16))}\n${tail}`],
    ["hash not base64", `${TLOG_PROOF_HEADER}\nindex 0\n${H.slice(1)}!\n${tail}`],
    ["hash with trailing space", `${TLOG_PROOF_HEADER}\nindex 0\n${H} \n${tail}`],
    ["no empty line", `${TLOG_PROOF_HEADER}\nindex 0\n${H}\n`],
    ["too many hashes", `${TLOG_PROOF_HEADER}\nindex 0\n${`${H}\n`.repeat(MAX_PROOF_HASHES + 1)}${tail}`],
    ["not a string", 12 as unknown as string],
  ])("MALFORMED_TLOG_PROOF: %s", (_what, text) => {
    expect(code(() => parseTlogProof(text))).toBe("MALFORMED_TLOG_PROOF");
  });

  it("MALFORMED_TLOG_PROOF: invalid UTF-8", () => {
    const bytes = new TextEncoder().encode(`${TLOG_PROOF_HEADER}\nindex 0\n${tail}`);
    bytes[bytes.length - 5] = 0xff;
    expect(code(() => parseTlogProof(bytes))).toBe("MALFORMED_TLOG_PROOF");
  });

  it("surfaces problems in the embedded checkpoint with their own codes", () => {
    const head = `${TLOG_PROOF_HEADER}\nindex 0\n\n`;
    expect(code(() => parseTlogProof(`${head}`))).toBe("MALFORMED_NOTE");
    expect(code(() => parseTlogProof(`${head}${checkpointNote.slice(0, -1)}`))).toBe("MALFORMED_NOTE");
    expect(code(() => parseTlogProof(`${head}${checkpointNote}junk\n`))).toBe("BAD_SIGNATURE_LINE");
    expect(code(() => parseTlogProof(`${head}${signNote("not a checkpoint\n", [log])}`))).toBe("MALFORMED_CHECKPOINT");
  });

  it("NOTE_TOO_LARGE beyond MAX_TLOG_PROOF_SIZE", () => {
    expect(code(() => parseTlogProof(`${TLOG_PROOF_HEADER}\n${"a".repeat(MAX_TLOG_PROOF_SIZE)}`))).toBe("NOTE_TOO_LARGE");
  });

  it("formatTlogProof refuses what it could not write faithfully", () => {
    const ok = { index: 0, proof: [hash(1)], checkpointNote };
    expect(code(() => formatTlogProof({ ...ok, index: -1 }))).toBe("MALFORMED_TLOG_PROOF");
    expect(code(() => formatTlogProof({ ...ok, index: 109482 }))).toBe("MALFORMED_TLOG_PROOF");
    expect(code(() => formatTlogProof({ ...ok, proof: [new Uint8Array(31)] }))).toBe("MALFORMED_TLOG_PROOF");
    expect(code(() => formatTlogProof({ ...ok, proof: Array(MAX_PROOF_HASHES + 1).fill(hash(1)) }))).toBe("MALFORMED_TLOG_PROOF");
    expect(code(() => formatTlogProof({ ...ok, checkpointNote: "nope\n" }))).toBe("MALFORMED_NOTE");
  });
});
