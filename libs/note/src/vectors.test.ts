/**
 * Interop against real notes: the C2SP signed-note spec example and the transparency-dev/tessera
 * test log checkpoints in test/fixtures/vectors/checkpoint_example.txt (signed by Go's
 * golang.org/x/mod/sumdb/note, not by us).
 */
import { readFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { formatTlogProof, NoteError, openCheckpoint, openTlogProof, parseCheckpoint, parseNote, parseTlogProof, parseVerifierKey, verifyNote } from "./index.js";
import type { VerifierKey } from "./index.js";

const VECTORS = new URL("../../../test/fixtures/vectors/checkpoint_example.txt", import.meta.url);

interface Example {
  label: string;
  note: string;
  vkey: string | undefined;
}

/**
 * Blocks are `-----BEGIN …-----` … `-----END …-----`; the delimiters are not part of the note and
 * the note ends with a final newline. The `vkey:` line in effect is the last one before the block
 * within the same `##` section (Example C has none: it is for layout only).
 */
function loadExamples(): { examples: Example[]; leaves: string[] } {
  const lines = readFileSync(VECTORS, "utf8").split("\n");
  const examples: Example[] = [];
  let leaves: string[] = [];
  let vkey: string | undefined;
  let current: { label: string; body: string[] } | undefined;
  for (const line of lines) {
    if (current !== undefined) {
      if (line.startsWith("-----END ")) {
        examples.push({ label: current.label, note: current.body.join("\n") + "\n", vkey });
        current = undefined;
      } else {
        current.body.push(line);
      }
    } else if (line.startsWith("-----BEGIN ")) {
      current = { label: line, body: [] };
    } else if (line.startsWith("## ")) {
      vkey = undefined;
    } else if (line.startsWith("vkey: ")) {
      vkey = line.slice("vkey: ".length).trim();
    } else if (line.startsWith("# Leaves")) {
      leaves = line
        .slice(line.indexOf("):") + 2)
        .trim()
        .split(" ");
    }
  }
  return { examples, leaves };
}

// RFC 6962 §2.1 / RFC 9162 §2.1.1 reference hashing, local to the test on purpose: it checks the
// checkpoint roots independently of the Merkle library.
const leafHash = (entry: Uint8Array) => sha256(Uint8Array.from([0, ...entry]));
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.from([1, ...l, ...r]));
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
/** MTH over raw entries (RFC 6962 §2.1). */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leafHash(leaves[0]!);
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** RFC 6962 §2.1.1 PATH(m, D[n]). */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}
/** RFC 9162 §2.1.3.2 inclusion verification. */
function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let fn = index,
    sn = size - 1,
    r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error("proof too long");
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("proof too short");
  return r;
}

const { examples, leaves } = loadExamples();
const enc = new TextEncoder();
const verifiable = examples.filter((e) => e.vkey !== undefined);
const checkpoints = verifiable.filter((e) => e.label.startsWith("-----BEGIN CHECKPOINT"));

function keysFor(e: Example): VerifierKey[] {
  return [parseVerifierKey(e.vkey!)];
}

describe("shared vectors file", () => {
  it("has the expected examples", () => {
    expect(examples.length).toBe(18); // A, 16 tessera checkpoints, C
    expect(verifiable.length).toBe(17);
    expect(checkpoints.length).toBe(16);
    expect(leaves.length).toBe(15);
  });

  it.each(verifiable.map((e) => [e.label, e] as const))("%s verifies", (_label, e) => {
    const v = verifyNote(e.note, keysFor(e));
    expect(v.verified).toEqual([keysFor(e)[0]!.name]);
    // Same answer from the raw bytes.
    expect(verifyNote(enc.encode(e.note), keysFor(e)).text).toBe(v.text);
  });

  it("checkpoint roots are the RFC 6962 root of the first N listed leaves", () => {
    const entries = leaves.map((l) => enc.encode(l));
    for (const e of checkpoints) {
      const cp = openCheckpoint(e.note, keysFor(e)[0]!, "example.com/log/testdata");
      expect(cp.extensions).toEqual([]);
      expect(Buffer.from(cp.rootHash).toString("hex")).toBe(Buffer.from(mth(entries.slice(0, cp.size))).toString("hex"));
    }
    // One checkpoint per size 0..15.
    expect(checkpoints.map((e) => parseCheckpoint(parseNote(e.note).text).size)).toEqual([...Array(16).keys()]);
  });

  it("the spec's unverifiable checkpoint (Example C) parses but cannot be opened with another key", () => {
    const c = examples.find((e) => e.vkey === undefined)!;
    const parsed = parseNote(c.note);
    const cp = parseCheckpoint(parsed.text);
    expect(cp.origin).toBe("example.com/behind-the-sofa");
    expect(cp.size).toBe(20852163);
    expect(parsed.signatures[0]!.name).toBe("example.com/behind-the-sofa");
    expect(parsed.signatures[0]!.signature.length).toBe(64);
    const tesseraKey = keysFor(checkpoints[0]!)[0]!;
    expect(() => openCheckpoint(c.note, tesseraKey)).toThrow(expect.objectContaining({ code: "NO_VERIFIED_SIGNATURE" }));
  });

  it("a tlog-proof@v1 bundle around a real checkpoint round-trips and its proof checks out", () => {
    const entries = leaves.map((l) => enc.encode(l));
    const e = checkpoints.find((x) => x.label.includes("size=13 "))!;
    for (const index of [0, 5, 12]) {
      const proof = path(index, entries.slice(0, 13));
      const bundle = formatTlogProof({ index, proof, checkpointNote: e.note, extra: enc.encode("custody") });
      const opened = openTlogProof(bundle, keysFor(e)[0]!, "example.com/log/testdata");
      expect(opened.index).toBe(index);
      expect(parseTlogProof(bundle).checkpointNote).toBe(e.note);
      const root = rootFromInclusionProof(index, opened.checkpoint.size, leafHash(entries[index]!), opened.proof);
      expect(Buffer.from(root).equals(Buffer.from(opened.checkpoint.rootHash))).toBe(true);
    }
  });
});

/**
 * Every single-byte change must be refused with a NoteError (never accepted, never a crash).
 * Each attempt that reaches Ed25519 costs ~1.5 ms in pure JS, so the exhaustive loops cover a few
 * notes and the rest are sampled with a stride.
 */
function expectByteFlipsFail(e: Example, masks: readonly number[], stride = 1, start = 0): number {
  const keys = keysFor(e);
  const bytes = enc.encode(e.note);
  let tried = 0;
  for (let i = start; i < bytes.length; i += stride) {
    for (const mask of masks) {
      const mutated = bytes.slice();
      mutated[i] = mutated[i]! ^ mask;
      let err: unknown;
      try {
        verifyNote(mutated, keys);
      } catch (x) {
        err = x;
      }
      if (!(err instanceof NoteError)) throw new Error(`${e.label}: byte ${i} ^ 0x${mask.toString(16)} was not rejected`);
      tried++;
    }
  }
  return tried;
}

describe("single-byte mutations of real notes", () => {
  it("Example A (spec note): every byte, five masks", () => {
    expect(expectByteFlipsFail(verifiable[0]!, [0x01, 0x02, 0x20, 0x80, 0xff])).toBeGreaterThan(500);
  });

  it("tessera checkpoints 0, 7 and 15: every byte, two masks", () => {
    for (const label of ["size=0 ", "size=7 ", "size=15 "]) {
      const e = checkpoints.find((x) => x.label.includes(label))!;
      expect(expectByteFlipsFail(e, [0x01, 0x80])).toBe(2 * enc.encode(e.note).length);
    }
  });

  it("all checkpoints: every 5th byte (offset varies per note), one mask", () => {
    checkpoints.forEach((e, n) => {
      expectByteFlipsFail(e, [0x04], 5, n % 5);
    });
  });
});
