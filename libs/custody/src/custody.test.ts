import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateSigner, verifierKeyOf, type VerifierKey } from "@custody/note";
import { custodyRoot, formatCustodyHeaders, parseCustodyHeaders, sealBatch, sealLeafEntry, sealSignatureOf, verifySealOf, type SealedHops, type SealProof } from "./index.js";

/** Format 1: the seal of a custody root is over its seal leaf entry. */
const verifySeal = (custodyRoot: Uint8Array, proof: SealProof, keys: readonly VerifierKey[]) => verifySealOf(sealLeafEntry(custodyRoot), proof, keys);

const signer = generateSigner("custody.test/log");
const keys = [verifierKeyOf(signer)];
const hops = (): SealedHops => ({ ingested: randomBytes(32), redacted: randomBytes(32), prepared: randomBytes(32), signed: randomBytes(32) });

function sealOne(count: number, pick: number) {
  const all = Array.from({ length: count }, hops);
  const roots = all.map(custodyRoot);
  const batch = sealBatch(roots, signer);
  const member = batch.members[pick]!;
  const seal = { signer: signer.name, size: batch.size, index: member.index, path: member.path, signature: sealSignatureOf(batch.note, signer.name) };
  return { hops: all[pick]!, root: roots[pick]!, seal };
}

describe("custody seal", () => {
  it("binds each hop to its position: swapping two hop hashes changes the root", () => {
    const h = hops();
    expect(custodyRoot({ ...h, redacted: h.prepared, prepared: h.redacted })).not.toEqual(custodyRoot(h));
  });

  it("verifies every member of a batch through the headers, and fails on any flipped bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.nat(), (count, pickSeed, bitSeed) => {
        const { hops: h, root, seal } = sealOne(count, pickSeed % count);
        const headers = formatCustodyHeaders(h, root, seal);
        const parsed = parseCustodyHeaders(headers as unknown as Record<string, string>);
        expect(custodyRoot(parsed.hops)).toEqual(parsed.root);
        verifySeal(parsed.root, parsed.seal, keys);

        const forgedRoot = Uint8Array.from(root);
        forgedRoot[bitSeed % 32]! ^= 1 << (bitSeed % 8);
        expect(() => verifySeal(forgedRoot, seal, keys)).toThrow();
        if (seal.path.length > 0) {
          const path = seal.path.map((p) => Uint8Array.from(p));
          path[bitSeed % path.length]![bitSeed % 32]! ^= 1;
          expect(() => verifySeal(root, { ...seal, path }, keys)).toThrow();
        }
        const sig = Buffer.from(seal.signature, "base64");
        sig[4 + (bitSeed % 64)]! ^= 1;
        expect(() => verifySeal(root, { ...seal, signature: sig.toString("base64") }, keys)).toThrow();
      }),
      { numRuns: 40 },
    );
  });

  it("rejects a seal signed by another key, or under another signer name", () => {
    const { root, seal } = sealOne(3, 1);
    expect(() => verifySeal(root, seal, [verifierKeyOf(generateSigner("custody.test/log"))])).toThrow();
    expect(() => verifySeal(root, { ...seal, signer: "custody.other/log" }, keys)).toThrow();
  });

  it("parses headers strictly", () => {
    const { hops: h, root, seal } = sealOne(2, 0);
    const good = formatCustodyHeaders(h, root, seal) as unknown as Record<string, string>;
    expect(() => parseCustodyHeaders({ ...good, "x-custody-root": good["x-custody-root"]!.toUpperCase() })).toThrow(/lowercase/);
    // The seal header is accepted only in exactly the form the platform writes.
    const sealHeader = good["x-custody-seal"]!;
    for (const variant of [
      sealHeader.replace("size=2", "size=02"),
      sealHeader.replace("size=2", "size=2.0"),
      sealHeader.replace("size=2;", "size= 2;"),
      sealHeader.replace(";index=0", "; index=0"),
      sealHeader.replace(/^signer=([^;]*);size=2;/, "size=2;signer=$1;"),
      `${sealHeader};extra=1`,
      sealHeader.replace("index=0", "index=2"),
      sealHeader.replace("size=2", "size=99999999999999999"),
      sealHeader.replace(/path=([0-9a-f]+)/, (_, p: string) => `path=${p.toUpperCase()}`),
    ]) {
      expect(() => parseCustodyHeaders({ ...good, "x-custody-seal": variant }), variant).toThrow(/x-custody-seal/);
    }
    expect(() => parseCustodyHeaders({ ...good, "x-custody-hops": `${good["x-custody-hops"]};signed=00` })).toThrow(/twice/);
    expect(() => parseCustodyHeaders({ ...good, "x-custody-seal": undefined as unknown as string })).toThrow(/missing/);
  });

  it("takes a seal's signature from its note's signature line, and refuses a line that is not canonical base64", () => {
    const { note } = sealBatch([custodyRoot(hops())], signer);
    const line = note.split("\n").find((l) => l.startsWith(`\u2014 ${signer.name} `))!;
    expect(sealSignatureOf(note, signer.name)).toBe(line.slice(`\u2014 ${signer.name} `.length));
    expect(() => sealSignatureOf(note, "custody.other/log")).toThrow(/no base64 signature/);
    for (const bad of [`${line}!`, `${line.slice(0, -1)}`]) expect(() => sealSignatureOf(note.replace(line, bad), signer.name)).toThrow(/no base64 signature/);
  });

  it("refuses empty and oversized batches", () => {
    expect(() => sealBatch([], signer)).toThrow(/1 to/);
  });
});
