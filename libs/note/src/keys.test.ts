import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "@custody/encoding";
import { computeKeyId, formatSignerKey, formatVerifierKey, generateSigner, parseSignerKey, parseVerifierKey, signerFromSeed, verifierKeyFromPublicKey, verifierKeyOf } from "./index.js";
import type { Signer, VerifierKey } from "./index.js";
import { signNote } from "./note.js";
import { code } from "./expect.fixture.js";

// From the C2SP signed-note spec example and the tessera test log (see vectors.test.ts).
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const TESSERA_VKEY = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("verifier keys", () => {
  it.each([SPEC_VKEY, TESSERA_VKEY])("parses and re-formats %s exactly", (vkey) => {
    const k = parseVerifierKey(vkey);
    expect(formatVerifierKey(k)).toBe(vkey);
    expect(k.publicKey.length).toBe(32);
    expect(hex(k.keyId)).toBe(vkey.split("+")[1]);
    expect(computeKeyId(k.name, k.publicKey)).toEqual(k.keyId);
  });

  it("base64 key material may itself contain '+' (only the first two '+' separate fields)", () => {
    expect(parseVerifierKey(TESSERA_VKEY).name).toBe("example.com/log/testdata");
  });

  it("derives key ID = SHA-256(name || 0x0A || 0x01 || pubkey)[:4]", () => {
    const k = parseVerifierKey(SPEC_VKEY);
    const h = createHash("sha256").update("example.com/foo\n").update(Uint8Array.of(1)).update(k.publicKey).digest();
    expect(hex(k.keyId)).toBe(h.subarray(0, 4).toString("hex"));
  });

  const [name, id, b64] = SPEC_VKEY.split("+") as [string, string, string];
  const otherType = encodeBase64(Uint8Array.from([0x02, ...parseVerifierKey(SPEC_VKEY).publicKey]));
  const smallOrder = encodeBase64(Uint8Array.from([0x01, 1, ...new Uint8Array(31)])); // the identity point
  const nonCanonical = encodeBase64(Uint8Array.from([0x01, ...new Uint8Array(31).fill(0xff), 0x7f])); // y = 2^255-1 >= p
  it.each([
    ["empty", ""],
    ["two fields", `${name}+${id}`],
    ["wrong key ID", `${name}+530d903b+${b64}`],
    ["uppercase key ID", `${name}+530D903A+${b64}`],
    ["short key ID", `${name}+530d903+${b64}`],
    ["other name (ID mismatch)", `example.com/bar+${id}+${b64}`],
    ["space in name", `example.com foo+${id}+${b64}`],
    ["U+3000 in name", `example.com\u3000foo+${id}+${b64}`],
    ["empty name", `+${id}+${b64}`],
    ["non-canonical base64", `${name}+${id}+${b64.slice(0, -1)}l`],
    ["truncated key", `${name}+${id}+${b64.slice(0, -4)}`],
    ["signature type 0x02", `${name}+${id}+${otherType}`],
    ["small-order point", `${name}+00000000+${smallOrder}`],
    ["non-canonical point", `${name}+00000000+${nonCanonical}`],
    ["huge", "a".repeat(5000)],
  ])("rejects %s", (_what, vkey) => {
    expect(code(() => parseVerifierKey(vkey))).toBe("BAD_VKEY");
  });

  it("rejects hand-built inconsistent keys when formatting", () => {
    const k = parseVerifierKey(SPEC_VKEY);
    const wrongId: VerifierKey = { ...k, keyId: Uint8Array.of(0, 0, 0, 0) };
    expect(code(() => formatVerifierKey(wrongId))).toBe("BAD_VKEY");
    expect(code(() => verifierKeyFromPublicKey("a b", k.publicKey))).toBe("BAD_VKEY");
    expect(code(() => verifierKeyFromPublicKey("ok", new Uint8Array(31)))).toBe("BAD_VKEY");
  });
});

describe("signer keys", () => {
  it("round-trips through text and matches its verifier key", () => {
    const s = signerFromSeed("custody.example/log", seed);
    const text = formatSignerKey(s);
    expect(text.startsWith(`PRIVATE+KEY+custody.example/log+${hex(s.keyId)}+`)).toBe(true);
    const back = parseSignerKey(text);
    expect(back.seed).toEqual(seed);
    expect(back.publicKey).toEqual(s.publicKey);
    const vkey = formatVerifierKey(verifierKeyOf(back));
    expect(parseVerifierKey(vkey).keyId).toEqual(s.keyId);
  });

  it("copies the seed so later mutation of the caller's array has no effect", () => {
    const mine = seed.slice();
    const s = signerFromSeed("a", mine);
    mine.fill(0);
    expect(s.seed).toEqual(seed);
  });

  it("generates distinct keys", () => {
    const a = generateSigner("a.example");
    const b = generateSigner("a.example");
    expect(hex(a.seed)).not.toBe(hex(b.seed));
    expect(a.seed.length).toBe(32);
  });

  const good = formatSignerKey(signerFromSeed("a.example", seed));
  const [, , n, id, b64] = good.split("+") as [string, string, string, string, string];
  it.each([
    ["missing PRIVATE+KEY", `${n}+${id}+${b64}`],
    ["wrong prefix", `PRIVATE+KEYS+${n}+${id}+${b64}`],
    ["wrong key ID", `PRIVATE+KEY+${n}+00000000+${b64}`],
    ["renamed (ID mismatch)", `PRIVATE+KEY+b.example+${id}+${b64}`],
    ["short seed", `PRIVATE+KEY+${n}+${id}+${encodeBase64(Uint8Array.from([1, ...new Uint8Array(31)]))}`],
    ["type 0x02", `PRIVATE+KEY+${n}+${id}+${encodeBase64(Uint8Array.from([2, ...seed]))}`],
    ["bad base64", `PRIVATE+KEY+${n}+${id}+${b64.slice(1)}`],
  ])("rejects %s", (_what, skey) => {
    expect(code(() => parseSignerKey(skey))).toBe("BAD_SIGNER_KEY");
  });

  it.each([
    ["", "empty"],
    ["a b", "space"],
    ["a+b", "plus"],
    ["a\u00a0b", "NBSP"],
    ["a\u0085b", "NEL"],
    ["a\u0007b", "control"],
    ["\ud800", "lone surrogate"],
  ])("rejects key name %j (%s)", (badName) => {
    expect(code(() => signerFromSeed(badName, seed))).toBe("BAD_SIGNER_KEY");
    expect(code(() => generateSigner(badName))).toBe("BAD_SIGNER_KEY");
  });

  it("accepts non-ASCII names without spaces", () => {
    const s = signerFromSeed("例え.example/ログ", seed);
    expect(parseSignerKey(formatSignerKey(s)).name).toBe("例え.example/ログ");
  });

  it("rejects a seed of the wrong length", () => {
    expect(code(() => signerFromSeed("a", new Uint8Array(64)))).toBe("BAD_SIGNER_KEY");
  });
});

describe("assertSigner", () => {
  it("remembers a signer it checked, and checks it again once any of its parts changed", () => {
    const signer = generateSigner("custody.example/log");
    signNote("text\n", [signer]);
    const other = generateSigner("custody.example/log");
    for (const [part, value] of [
      ["seed", other.seed],
      ["publicKey", other.publicKey],
      ["keyId", other.keyId],
    ] as const) {
      const tampered = { ...signer };
      signNote("text\n", [tampered]);
      (tampered as { -readonly [K in keyof Signer]: Signer[K] })[part] = value;
      expect(
        code(() => signNote("text\n", [tampered])),
        part,
      ).toBe("BAD_SIGNER_KEY");
    }
    // In place, too: the same object with a changed seed byte.
    const inPlace = generateSigner("custody.example/log");
    signNote("text\n", [inPlace]);
    inPlace.seed[0]! ^= 1;
    expect(code(() => signNote("text\n", [inPlace]))).toBe("BAD_SIGNER_KEY");
  });
});
