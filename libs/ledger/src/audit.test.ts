import { createPublicKey, verify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appendLeaves, leafHash, nodeKey, rootFromLeafHashes } from "@custody/merkle";
import { formatCheckpoint, generateSigner, parseCheckpoint, signNote, verifierKeyOf, verifyNote, type VerifierKey } from "@custody/note";
import { completedNodeRanges, LedgerAuditor, verifyCheckpoint, type AuditCheckpoint, type AuditLeaf, type AuditLeafBatch, type AuditReport, type SignatureAccepts, type StoredNodeLookup } from "./audit.js";
import { ReferenceAuditor } from "./audit-reference.fixture.js";
import { outcomesEntry } from "./documents.js";
import { encodeEntry } from "./entry.js";

const ORIGIN = "custody.audit-test/log";
const signer = generateSigner(ORIGIN);
const stranger = generateSigner(ORIGIN);
const keys = [verifierKeyOf(signer)];
const utf8 = new TextEncoder();

/** A ledger as the audit reads it, possibly tampered with. */
interface Ledger {
  leaves: AuditLeaf[];
  nodes: Map<string, Uint8Array>;
  checkpoints: AuditCheckpoint[];
  head: { treeSize: number; rootHash: Uint8Array; checkpointSize: number };
  unsequenced: string[];
}

const random32 = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 7) & 0xff);

const leafKind = fc.oneof(
  { weight: 20, arbitrary: fc.constant("ok" as const) },
  { weight: 1, arbitrary: fc.constantFrom("loose" as const, "junk" as const, "foreign" as const, "missing" as const, "wrong-hash" as const, "no-hash" as const) },
);
const tamper = fc.record({
  leaves: fc.array(leafKind, { maxLength: 70 }),
  gap: fc.option(fc.nat(), { nil: undefined }),
  duplicate: fc.option(fc.nat(), { nil: undefined }),
  deletedNodes: fc.array(fc.nat(), { maxLength: 3 }),
  changedNodes: fc.array(fc.nat(), { maxLength: 3 }),
  checkpoints: fc.uniqueArray(fc.record({ size: fc.nat({ max: 75 }), how: fc.constantFrom("good", "good", "good", "wrong-root", "stranger", "row-differs", "other-origin") }), { selector: (c) => c.size, maxLength: 5 }),
  headShort: fc.boolean(),
  headWrongRoot: fc.boolean(),
  unsequenced: fc.array(fc.constantFrom("ent_a", "ent_b"), { maxLength: 2 }),
});

type Tamper = typeof tamper extends fc.Arbitrary<infer T> ? T : never;

function build(t: Tamper): Ledger {
  const leaves: AuditLeaf[] = t.leaves.map((kind, i) => {
    const batchRoot = i.toString(16).padStart(64, "0");
    const good = encodeEntry(outcomesEntry({ batchRoot, size: 1 }));
    const body =
      kind === "missing"
        ? null
        : kind === "loose"
          ? utf8.encode(`{"v":2, "kind":"outcomes","batchRoot":"${batchRoot}","size":1}`)
          : kind === "junk"
            ? Uint8Array.of(0x7b, i & 0xff)
            : // Canonical, but not a well-formed entry of its kind: a member FORMAT §3 does not list.
              kind === "foreign"
              ? encodeEntry({ v: 2, kind: "outcomes", batchRoot, size: 1, n: i })
              : good;
    const storedLeafHash = body === null || kind === "no-hash" ? null : kind === "wrong-hash" ? random32(i) : leafHash(body);
    return { leafIndex: i, entryId: `ent_${i}`, body, storedLeafHash };
  });
  // What the audit derives for each leaf it reads (a missing entry counts as 32 zero bytes).
  let read = leaves;
  if (t.gap !== undefined && leaves.length > 0) read = read.filter((_, i) => i !== t.gap! % leaves.length);
  if (t.duplicate !== undefined && read.length > 0) {
    const at = t.duplicate % read.length;
    read = [...read.slice(0, at + 1), read[at]!, ...read.slice(at + 1)];
  }
  const hashes = read.map((l) => (l.body === null ? new Uint8Array(32) : leafHash(l.body)));
  const nodes = new Map(appendLeaves([], 0, hashes).newNodes.map((n) => [nodeKey(n), n.hash] as const));
  const keysOfNodes = [...nodes.keys()];
  for (const d of t.deletedNodes) if (keysOfNodes.length > 0) nodes.delete(keysOfNodes[d % keysOfNodes.length]!);
  for (const c of t.changedNodes) if (keysOfNodes.length > 0) nodes.set(keysOfNodes[c % keysOfNodes.length]!, random32(c + 1000));
  const rootAt = (size: number) => rootFromLeafHashes(hashes.slice(0, Math.min(size, hashes.length)));
  const checkpoints = t.checkpoints
    .map(({ size, how }) => {
      const root = how === "wrong-root" || size > hashes.length ? random32(size + 2000) : rootAt(size);
      const by = how === "stranger" ? stranger : signer;
      const origin = how === "other-origin" ? "custody.elsewhere/log" : by.name;
      const note = signNote(formatCheckpoint({ origin, size: how === "row-differs" ? size + 1 : size, rootHash: root }), [origin === by.name ? by : generateSigner(origin)]);
      return { treeSize: size, rootHash: root, note };
    })
    .sort((a, b) => a.treeSize - b.treeSize);
  const head = {
    treeSize: t.headShort ? Math.max(0, read.length - 1) : read.length,
    rootHash: t.headWrongRoot ? random32(3000) : rootAt(read.length),
    checkpointSize: 0,
  };
  return { leaves: read, nodes, checkpoints, head, unsequenced: t.unsequenced };
}

/** The audit as the command drove it before: chunks of leaves, checkpoints first, then their nodes from a map. */
function reference(ledger: Ledger, chunk: number): AuditReport {
  const a = new ReferenceAuditor(keys, ORIGIN);
  const between = (above: number, upTo: number) => ledger.checkpoints.filter((c) => c.treeSize > above && c.treeSize <= upTo);
  a.addCheckpoints(between(-1, 0));
  for (let i = 0; i < ledger.leaves.length; i += chunk) {
    const leaves = ledger.leaves.slice(i, i + chunk);
    a.addCheckpoints(between(a.treeSize, a.treeSize + leaves.length));
    const completed = a.addLeaves(leaves);
    a.compareNodes(completed, new Map(completed.filter((n) => ledger.nodes.has(nodeKey(n))).map((n) => [nodeKey(n), ledger.nodes.get(nodeKey(n))!])));
  }
  a.addCheckpoints(between(a.treeSize, Infinity));
  a.reportUnsequenced(ledger.unsequenced);
  return a.finish(ledger.head);
}

function batchOf(leaves: readonly AuditLeaf[]): AuditLeafBatch {
  return {
    length: leaves.length,
    leafIndex: (i) => leaves[i]!.leafIndex,
    body: (i) => leaves[i]!.body,
    storedLeafHash: (i) => leaves[i]!.storedLeafHash,
    entryId: (i) => leaves[i]!.entryId,
  };
}

/** node:crypto's Ed25519, as the command's (services/cli audit-signature.ts) does it. */
const nodeAccepts: SignatureAccepts = (signature, message, publicKey) => {
  const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]), format: "der", type: "spki" });
  return signature.length === 64 && verify(null, message, key, signature);
};

/**
 * The audit as the command drives it now: batches taken in slices, stored nodes looked up only
 * within the ranges `completedNodeRanges` names, and signatures checked with or without a faster check.
 */
function batched(ledger: Ledger, chunk: number, slice: number, fast: boolean): AuditReport {
  const a = new LedgerAuditor(keys, ORIGIN, { signatureAccepts: fast ? nodeAccepts : undefined });
  const between = (above: number, upTo: number) => ledger.checkpoints.filter((c) => c.treeSize > above && c.treeSize <= upTo);
  const add = (cps: typeof ledger.checkpoints) => a.addCheckpoints(cps);
  add(between(-1, 0));
  for (let i = 0; i < ledger.leaves.length; i += chunk) {
    const leaves = ledger.leaves.slice(i, i + chunk);
    const from = a.treeSize;
    add(between(from, from + leaves.length));
    const ranges = completedNodeRanges(from, leaves.length);
    const stored: StoredNodeLookup = {
      hashOf(level, index) {
        const range = ranges.find((r) => r.level === level);
        expect(range !== undefined && index >= range.first && index <= range.last, `node ${level}:${index} outside the ranges asked for`).toBe(true);
        return ledger.nodes.get(nodeKey({ level, index })) ?? null;
      },
    };
    const batch = batchOf(leaves);
    for (let s = 0; s < leaves.length; s += slice) a.addLeafBatch(batch, stored, s, Math.min(leaves.length, s + slice));
  }
  add(between(a.treeSize, Infinity));
  a.reportUnsequenced(ledger.unsequenced);
  return a.finish(ledger.head);
}

describe("LedgerAuditor", () => {
  it("reports exactly what the audit reported before, however the leaves are batched, with or without a faster signature check", () => {
    fc.assert(
      fc.property(tamper, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), (t, chunkBefore, chunk, slice, fast) => {
        const ledger = build(t);
        const before = reference(ledger, chunkBefore);
        const after = batched(ledger, chunk, slice, fast);
        if (before.findingsTotal <= 100) expect(after).toEqual(before);
        else {
          // Past 100 findings the old audit listed the first 100 it came across; this one lists the
          // earliest, and the earliest of each check: every check the old list showed is still shown.
          expect({ ...after, findings: [], firstFinding: null }).toEqual({ ...before, findings: [], firstFinding: null });
          expect(after.firstFinding!.leafIndex ?? Infinity).toBeLessThanOrEqual(before.firstFinding!.leafIndex ?? Infinity);
          expect(new Set(after.findings.map((f) => f.check))).toEqual(new Set([...before.findings, ...after.findings].map((f) => f.check)));
        }
        // And the old API on the new class, as other callers may use it.
        const again = new LedgerAuditor(keys, ORIGIN);
        const between = (above: number, upTo: number) => ledger.checkpoints.filter((c) => c.treeSize > above && c.treeSize <= upTo);
        again.addCheckpoints(between(-1, 0));
        again.addCheckpoints(between(0, ledger.leaves.length));
        const completed = again.addLeaves(ledger.leaves);
        again.compareNodes(completed, ledger.nodes);
        again.addCheckpoints(between(again.treeSize, Infinity));
        again.reportUnsequenced(ledger.unsequenced);
        if (before.findingsTotal <= 100) expect(again.finish(ledger.head)).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it("re-derives the RFC 9162 tree: no findings on an untouched ledger of any size", () => {
    for (const n of [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 200]) {
      const ledger = build({ leaves: Array(n).fill("ok"), gap: undefined, duplicate: undefined, deletedNodes: [], changedNodes: [], checkpoints: [], headShort: false, headWrongRoot: false, unsequenced: [] });
      const a = new LedgerAuditor(keys, ORIGIN);
      a.addLeafBatch(batchOf(ledger.leaves), { hashOf: (level, index) => ledger.nodes.get(nodeKey({ level, index })) ?? null });
      expect(a.finish(ledger.head)).toMatchObject({ ok: true, treeSize: n, findings: [] });
    }
  });

  it("names the ranges of nodes a run of leaves completes", () => {
    expect(completedNodeRanges(0, 1)).toEqual([{ level: 0, first: 0, last: 0 }]);
    expect(completedNodeRanges(3, 1)).toEqual([
      { level: 0, first: 3, last: 3 },
      { level: 1, first: 1, last: 1 },
      { level: 2, first: 0, last: 0 },
    ]);
    expect(completedNodeRanges(5, 3)).toEqual([
      { level: 0, first: 5, last: 7 },
      { level: 1, first: 2, last: 3 },
      { level: 2, first: 1, last: 1 },
      { level: 3, first: 0, last: 0 },
    ]);
    // Every node appendLeaves completes is in the ranges, and nothing else is.
    fc.assert(
      fc.property(fc.nat({ max: 3000 }), fc.integer({ min: 1, max: 300 }), (size, count) => {
        const hashes = Array.from({ length: size + count }, (_, i) => random32(i));
        const before = appendLeaves([], 0, hashes.slice(0, size));
        const completed = appendLeaves(before.frontier, size, hashes.slice(size)).newNodes.map(nodeKey).sort();
        const named = completedNodeRanges(size, count)
          .flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, k) => nodeKey({ level: r.level, index: r.first + k })))
          .sort();
        expect(named).toEqual(completed);
      }),
      { numRuns: 300 },
    );
  });

  it("reports a canonical entry that is not a well-formed entry of its kind, naming the member", () => {
    const ledger = build({ leaves: ["ok", "foreign", "ok"], gap: undefined, duplicate: undefined, deletedNodes: [], changedNodes: [], checkpoints: [], headShort: false, headWrongRoot: false, unsequenced: [] });
    const a = new LedgerAuditor(keys, ORIGIN);
    a.addLeafBatch(batchOf(ledger.leaves), { hashOf: (level, index) => ledger.nodes.get(nodeKey({ level, index })) ?? null });
    const report = a.finish(ledger.head);
    expect(report.findings).toEqual([{ check: "ENTRY_MALFORMED", leafIndex: 1, message: "entry ent_1 at leaf 1: member n is not one of this kind's members" }]);
  });

  it("lists the 100 earliest findings by leaf index and the earliest of every check, and counts them all", () => {
    const leaves = Array.from({ length: 300 }, (_, i) => ({ leafIndex: i, entryId: `ent_${i}`, body: utf8.encode("junk"), storedLeafHash: null }));
    const a = new LedgerAuditor(keys, ORIGIN);
    // Findings without a leaf index first: they still sort last.
    a.reportUnsequenced(Array.from({ length: 150 }, (_, i) => `ent_x${i}`));
    a.addLeafBatch(batchOf(leaves), { hashOf: () => null });
    const report = a.finish({ treeSize: 300, rootHash: new Uint8Array(32), checkpointSize: 0 });
    // 150 unsequenced, 300 malformed entries, the 596 perfect nodes of 300 leaves all missing, the head's root.
    expect(report.findingsTotal).toBe(150 + 300 + 596 + 1);
    expect(report.findings).toHaveLength(100);
    expect(report.firstFinding).toMatchObject({ check: "ENTRY_MALFORMED", leafIndex: 0 });
    const places = report.findings.map((f) => f.leafIndex ?? Infinity);
    expect(places).toEqual([...places].sort((x, y) => x - y));
    // The earliest of each check that found anything is listed, even past the first 100.
    expect(new Set(report.findings.map((f) => f.check))).toEqual(new Set(["ENTRY_MALFORMED", "TREE_NODE_MISMATCH", "ENTRY_UNSEQUENCED", "HEAD_MISMATCH"]));
    expect(report.findings.filter((f) => f.leafIndex !== null).at(-1)!.leafIndex).toBeLessThan(60);
  });

  it("checks a checkpoint against only the keys its note names, with the verdict and message of checking it against all", () => {
    const retired = generateSigner(ORIGIN);
    const other = generateSigner("custody.other/log");
    const outsider = generateSigner(ORIGIN);
    const root = random32(7);
    const text = formatCheckpoint({ origin: ORIGIN, size: 9, rootHash: root });
    const sign = (...signers: (typeof signer)[]) => signNote(text, signers);
    const forged = (note: string) => note.replace(/ (\S)(\S*)\n$/, (_, c: string, rest: string) => ` ${c === "A" ? "B" : "A"}${rest}\n`);
    const notes = [sign(signer), sign(retired), sign(signer, retired), sign(retired, signer), sign(outsider), sign(other), sign(signer, outsider), forged(sign(signer)), forged(sign(retired, signer)), "not a note", ""];
    // A key that claims another key's ID: verifyNote refuses the whole set, whatever the note.
    const impostor: VerifierKey = { ...verifierKeyOf(outsider), keyId: verifierKeyOf(signer).keyId };
    const keySets: VerifierKey[][] = [
      [],
      [verifierKeyOf(signer)],
      [verifierKeyOf(retired), verifierKeyOf(signer), verifierKeyOf(other)],
      [verifierKeyOf(signer), verifierKeyOf(retired)],
      [verifierKeyOf(signer), verifierKeyOf(retired), impostor],
    ];
    const before = (note: string, keys: VerifierKey[]) => {
      try {
        const opened = parseCheckpoint(verifyNote(note, keys).text);
        return opened.size === 9 ? { ok: true } : { ok: false, message: "size" };
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
    };
    for (const keys of keySets) {
      for (const note of notes) {
        expect(verifyCheckpoint({ treeSize: 9, rootHash: root, note }, keys, ORIGIN)).toEqual(before(note, keys));
        // With a faster check: its "yes" counts, anything else goes to verifyNote; the same either way.
        expect(verifyCheckpoint({ treeSize: 9, rootHash: root, note }, keys, ORIGIN, nodeAccepts)).toEqual(before(note, keys));
        // Even with one that would say yes to anything, where the key set is one verifyNote refuses.
        if (keys.includes(impostor)) expect(verifyCheckpoint({ treeSize: 9, rootHash: root, note }, keys, ORIGIN, () => true)).toEqual(before(note, keys));
      }
    }
  });
});
