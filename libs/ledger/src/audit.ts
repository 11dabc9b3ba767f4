import { toHex } from "@custody/encoding";
import { hashFromDecomposition, leafHash, nodeHash, nodeKey, type StoredNode } from "@custody/merkle";
import { NoteError, parseCheckpoint, parseNote, verifyNote, type VerifierKey } from "@custody/note";
import { entryFault } from "./documents.js";

/** What can disagree. Each names one check, so a report says exactly which guarantee broke. */
export type AuditCheck =
  | "LEAF_INDEX_GAP"
  | "ENTRY_MISSING"
  | "LEAF_HASH_MISMATCH"
  | "ENTRY_MALFORMED"
  | "ENTRY_UNSEQUENCED"
  | "TREE_NODE_MISMATCH"
  | "CHECKPOINT_INVALID"
  | "CHECKPOINT_ROOT_MISMATCH"
  | "CHECKPOINT_BEYOND_TREE"
  | "HEAD_MISMATCH";

export interface AuditFinding {
  check: AuditCheck;
  /** The first leaf index the finding concerns, when it concerns one. */
  leafIndex: number | null;
  message: string;
}

export interface AuditLeaf {
  leafIndex: number;
  entryId: string;
  /** The entry's stored bytes, or null when the row the leaf points at is gone. */
  body: Uint8Array | null;
  storedLeafHash: Uint8Array | null;
}

/**
 * A run of leaves in leaf-index order, read column by column so that a caller holding them in one
 * buffer need not build an object per leaf. Views into the caller's buffers are fine: nothing is kept
 * after `addLeafBatch` returns.
 */
export interface AuditLeafBatch {
  readonly length: number;
  leafIndex(i: number): number;
  /** The entry's stored bytes, or null when the row the leaf points at is gone. */
  body(i: number): Uint8Array | null;
  storedLeafHash(i: number): Uint8Array | null;
  /** Optional: whether the stored leaf hash is present and equals `hash`, without a view of it. */
  storedLeafHashEquals?(i: number, hash: Uint8Array): boolean;
  /** Asked only when a finding names the entry. */
  entryId(i: number): string;
}

/** The stored tree nodes, as the audit asks for each node it re-derives. */
export interface StoredNodeLookup {
  /** The stored hash of node (level, index), or null when there is none. A view is fine. */
  hashOf(level: number, index: number): Uint8Array | null;
  /** Optional: whether node (level, index) is stored with exactly `hash`, without a view of it. */
  hashEquals?(level: number, index: number, hash: Uint8Array): boolean;
}

/**
 * The RFC 9162 §2.1.1 hashes the audit derives the tree with. By default @custody/merkle's (SHA-256
 * through the process's crypto backend); a caller may bring a faster one with the same output.
 */
export interface TreeHasher {
  /** SHA-256(0x00 || entry) */
  leaf(entry: Uint8Array): Uint8Array;
  /** SHA-256(0x01 || left || right), of two 32-byte hashes */
  node(left: Uint8Array, right: Uint8Array): Uint8Array;
}

const MERKLE_HASHER: TreeHasher = { leaf: leafHash, node: nodeHash };

/** The nodes of one level completed by a run of leaves: indexes first..last, inclusive. */
export interface NodeRange {
  level: number;
  first: number;
  last: number;
}

export interface AuditCheckpoint {
  treeSize: number;
  rootHash: Uint8Array;
  note: string;
}

/** Whether a checkpoint's note is signed by a platform key and says what its row says. */
export type CheckpointVerdict = { ok: true } | { ok: false; message: string };

export interface AuditReport {
  ok: boolean;
  treeSize: number;
  checkpointsVerified: number;
  /** The earliest problem by leaf index (problems without an index come last). */
  firstFinding: AuditFinding | null;
  findings: AuditFinding[];
  findingsTotal: number;
}

const MAX_FINDINGS = 100;
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Where a finding sorts among those at the same leaf index: the order in which one leaf's checks
 * run (the leaf, then the checkpoint of the tree it completes, then the tree nodes it completes).
 * Findings without a leaf index sort after all others, in the order their checks run.
 */
const RANK = {
  emptyCheckpoint: 0,
  leaf: 1,
  checkpoint: 2,
  node: 3,
  head: 4,
  // without a leaf index
  invalidCheckpoint: 0,
  unsequenced: 1,
  beyondTree: 2,
  headRoot: 3,
} as const;

interface RankedFinding extends AuditFinding {
  rank: number;
  seq: number;
}

function byPlace(a: RankedFinding, b: RankedFinding): number {
  const x = a.leafIndex ?? Infinity;
  const y = b.leafIndex ?? Infinity;
  if (x !== y) return x < y ? -1 : 1;
  return a.rank - b.rank || a.seq - b.seq;
}

/**
 * A checkpoint's own checks: its note is signed by one of `keys` (any platform key, current or
 * retired), names `origin`, and says the size and root its row says.
 */
export function verifyCheckpoint(cp: AuditCheckpoint, keys: readonly VerifierKey[], origin: string | undefined, accepts?: SignatureAccepts): CheckpointVerdict {
  try {
    // Any platform key, current or retired, may have signed it.
    const text = (accepts === undefined ? undefined : acceptedText(cp.note, keys, accepts)) ?? verifyNote(cp.note, keysNamedIn(cp.note, keys)).text;
    const opened = parseCheckpoint(text);
    if (origin !== undefined && opened.origin !== origin) throw new Error(`origin is ${opened.origin}, expected ${origin}`);
    if (opened.size !== cp.treeSize || !equal(opened.rootHash, cp.rootHash)) {
      throw new Error(`the row says size ${cp.treeSize} root ${toHex(cp.rootHash)}, its signed note says size ${opened.size} root ${toHex(opened.rootHash)}`);
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/**
 * A faster Ed25519 check for the audit (node:crypto's, in the command). It may answer true only where
 * the platform's strict RFC 8032 verification (libs/crypto verifyEd25519) answers true; false is no
 * verdict: the note then goes to verifyNote, whose verdict and message stand.
 */
export type SignatureAccepts = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** Key sets verifyNote accepts as they are (each key valid, no two answering to one name and key ID). */
const cleanKeySets = new WeakMap<readonly VerifierKey[], boolean>();

function isClean(keys: readonly VerifierKey[]): boolean {
  let clean = cleanKeySets.get(keys);
  if (clean === undefined) {
    // verifyNote checks the keys before it reads the note: with a note that is not one, what it
    // throws says whether the keys passed.
    try {
      verifyNote("", keys);
      clean = false;
    } catch (err) {
      clean = !(err instanceof NoteError && err.code === "BAD_VKEY");
    }
    cleanKeySets.set(keys, clean);
  }
  return clean;
}

const utf8 = new TextEncoder();

/**
 * The note's text if `accepts` accepts the signature of every line a platform key answers to (by
 * name and key ID), and there is one; else undefined. That is verifyNote's own rule, so where
 * `accepts` is right to accept, verifyNote accepts too and gives this text; anything else is left
 * to verifyNote.
 */
function acceptedText(note: string, keys: readonly VerifierKey[], accepts: SignatureAccepts): string | undefined {
  if (!isClean(keys)) return undefined;
  let parsed: ReturnType<typeof parseNote>;
  try {
    parsed = parseNote(note);
  } catch {
    return undefined;
  }
  const byId = new Map(keys.map((k) => [`${k.name}+${toHex(k.keyId)}`, k] as const));
  const message = utf8.encode(parsed.text);
  let signed = false;
  for (const line of parsed.signatures) {
    const key = byId.get(`${line.name}+${toHex(line.keyId)}`);
    if (key === undefined) continue;
    if (!accepts(line.signature, message, key.publicKey)) return undefined;
    signed = true;
  }
  return signed ? parsed.text : undefined;
}

/**
 * The keys a note's signature lines name (by name and key ID), or all of them. verifyNote ignores a
 * line no key answers to and a key no line names, so its verdict is the same with these keys as
 * with all — provided it accepts the whole set, which it checks again on every call (a point
 * decompression per key: with a few retired platform keys, more than the signature itself).
 */
function keysNamedIn(note: string, keys: readonly VerifierKey[]): readonly VerifierKey[] {
  if (keys.length <= 1 || !isClean(keys)) return keys;
  let lines: ReturnType<typeof parseNote>["signatures"];
  try {
    lines = parseNote(note).signatures;
  } catch {
    // verifyNote will throw the same, whatever the keys.
    return keys;
  }
  const named = new Set(lines.map((line) => `${line.name}+${toHex(line.keyId)}`));
  return keys.filter((k) => named.has(`${k.name}+${toHex(k.keyId)}`));
}

/**
 * The perfect nodes that appending `count` leaves to a tree of `size` leaves completes, level by
 * level (leaves are level 0): node (L, i) is completed by leaf (i + 1)·2^L − 1.
 */
export function completedNodeRanges(size: number, count: number): NodeRange[] {
  const ranges: NodeRange[] = [];
  const end = size + count;
  for (let level = 0, span = 1; span <= end; level++, span *= 2) {
    const first = Math.floor(size / span);
    const last = Math.floor(end / span) - 1;
    if (last >= first) ranges.push({ level, first, last });
  }
  return ranges;
}

/**
 * Re-derives the whole ledger from its stored bytes, independent of anything the sequencer
 * stored about it: every leaf hash from the entry bytes, the tree from the leaves, and every
 * checkpoint's root from that tree. Pure: the caller streams rows in (in leaf-index order) and
 * hands over the stored tree nodes to compare.
 *
 * Findings are listed in order of leaf index (then in the order one leaf's checks run): the first
 * 100, and the first of every check that found anything, however the caller batches the leaves.
 * With at most 100 findings, that is all of them, in the order the audit has always reported them.
 */
export class LedgerAuditor {
  private size = 0;
  // The frontier: perfect-subtree roots of the tree so far, as a stack (largest first).
  private readonly stackLevel: number[] = [];
  private readonly stackHash: Uint8Array[] = [];
  private readonly pendingCheckpoints = new Map<number, AuditCheckpoint>();
  private checkpointsVerified = 0;
  private findingsTotal = 0;
  private findings: RankedFinding[] = [];
  private readonly earliestOfCheck = new Map<AuditCheck, RankedFinding>();
  private seq = 0;

  private readonly hasher: TreeHasher;
  private readonly accepts: SignatureAccepts | undefined;

  constructor(
    private readonly keys: readonly VerifierKey[],
    private readonly origin: string | undefined,
    options: { hasher?: TreeHasher; signatureAccepts?: SignatureAccepts } = {},
  ) {
    this.hasher = options.hasher ?? MERKLE_HASHER;
    this.accepts = options.signatureAccepts;
  }

  get treeSize(): number {
    return this.size;
  }

  private report(check: AuditCheck, leafIndex: number | null, rank: number, message: string): void {
    this.findingsTotal++;
    const finding = { check, leafIndex, message, rank, seq: this.seq++ };
    this.findings.push(finding);
    // Keep the first MAX_FINDINGS by place; trimming in bulk keeps reporting O(1) amortised.
    if (this.findings.length >= 4 * MAX_FINDINGS) this.findings = this.findings.sort(byPlace).slice(0, MAX_FINDINGS);
    const earliest = this.earliestOfCheck.get(check);
    if (earliest === undefined || byPlace(finding, earliest) < 0) this.earliestOfCheck.set(check, finding);
  }

  /**
   * Up to MAX_FINDINGS findings in order of place: the earliest ones, and the earliest of every check
   * that found anything (so that a thousand missing tree nodes do not hide that a signed checkpoint
   * disagrees too).
   */
  private listed(): RankedFinding[] {
    const every = new Set(this.earliestOfCheck.values());
    const all = [...new Set([...this.findings, ...every])].sort(byPlace);
    let extra = all.length - MAX_FINDINGS;
    for (let i = all.length - 1; i >= 0 && extra > 0; i--) {
      if (every.has(all[i]!)) continue;
      all.splice(i, 1);
      extra--;
    }
    return all;
  }

  /** Checks each checkpoint's signature now; its root is compared when the tree reaches its size. */
  addCheckpoints(checkpoints: readonly AuditCheckpoint[]): void {
    for (const cp of checkpoints) {
      const verdict = verifyCheckpoint(cp, this.keys, this.origin, this.accepts);
      if (!verdict.ok) {
        this.report("CHECKPOINT_INVALID", null, RANK.invalidCheckpoint, `checkpoint for size ${cp.treeSize}: ${verdict.message}`);
        continue;
      }
      this.checkpointsVerified++;
      if (cp.treeSize < this.size) {
        throw new Error(`checkpoint for size ${cp.treeSize} arrived after the audit passed that size; add checkpoints before their leaves`);
      }
      if (cp.treeSize === this.size) this.compareRoot(cp, this.root());
      else this.pendingCheckpoints.set(cp.treeSize, cp);
    }
  }

  private compareRoot(cp: AuditCheckpoint, root: Uint8Array): void {
    if (!equal(root, cp.rootHash)) {
      this.report(
        "CHECKPOINT_ROOT_MISMATCH",
        Math.max(0, cp.treeSize - 1),
        cp.treeSize === 0 ? RANK.emptyCheckpoint : RANK.checkpoint,
        `signed checkpoint for size ${cp.treeSize} has root ${toHex(cp.rootHash)}, the entries give ${toHex(root)}`,
      );
    }
  }

  private root(): Uint8Array {
    return hashFromDecomposition(this.stackHash);
  }

  /**
   * Appends leaves (in index order) to the re-derived tree and returns every perfect node they
   * complete, which the caller compares with the stored nodes through `compareNodes`.
   */
  addLeaves(leaves: readonly AuditLeaf[]): StoredNode[] {
    const completed: StoredNode[] = [];
    const batch: AuditLeafBatch = {
      length: leaves.length,
      leafIndex: (i) => leaves[i]!.leafIndex,
      body: (i) => leaves[i]!.body,
      storedLeafHash: (i) => leaves[i]!.storedLeafHash,
      entryId: (i) => leaves[i]!.entryId,
    };
    for (let i = 0; i < leaves.length; i++) this.addLeaf(batch, i, null, completed);
    return completed;
  }

  /** Stored nodes must equal the re-derived ones: proofs are served from them. */
  compareNodes(expected: readonly StoredNode[], stored: ReadonlyMap<string, Uint8Array>): void {
    for (const node of expected) this.compareNode(node.level, node.index, node.hash, stored.get(nodeKey(node)) ?? null);
  }

  /**
   * Appends a run of leaves (in index order) and compares every perfect node they complete — the
   * nodes `completedNodeRanges(treeSize, batch.length)` names — with the stored ones. A batch may be
   * taken in parts: leaves [start, end), then [end, …).
   */
  addLeafBatch(batch: AuditLeafBatch, stored: StoredNodeLookup, start = 0, end = batch.length): void {
    for (let i = start; i < end; i++) this.addLeaf(batch, i, stored, null);
  }

  private addLeaf(batch: AuditLeafBatch, i: number, stored: StoredNodeLookup | null, completed: StoredNode[] | null): void {
    const at = this.size;
    const leafIndex = batch.leafIndex(i);
    const body = batch.body(i);
    if (leafIndex !== at) {
      this.report("LEAF_INDEX_GAP", at, RANK.leaf, `expected leaf index ${at}, found ${leafIndex}: a leaf was deleted, duplicated or reordered`);
    }
    let hash: Uint8Array;
    if (body === null) {
      this.report("ENTRY_MISSING", at, RANK.leaf, `leaf ${at} points at entry ${batch.entryId(i)}, which no longer exists`);
      hash = new Uint8Array(32);
    } else {
      hash = this.hasher.leaf(body);
      if (batch.storedLeafHashEquals === undefined || !batch.storedLeafHashEquals(i, hash)) {
        const storedLeafHash = batch.storedLeafHash(i);
        if (storedLeafHash !== null && !equal(hash, storedLeafHash)) {
          this.report("LEAF_HASH_MISMATCH", at, RANK.leaf, `entry ${batch.entryId(i)} at leaf ${at}: stored leaf hash ${toHex(storedLeafHash)}, bytes hash to ${toHex(hash)}`);
        }
      }
      const problem = entryFault(body);
      if (problem !== null) this.report("ENTRY_MALFORMED", at, RANK.leaf, `entry ${batch.entryId(i)} at leaf ${at}: ${problem}`);
    }

    // Append to the frontier like a binary counter; every merge completes a perfect node.
    let level = 0;
    let index = at;
    this.size = at + 1;
    this.completeNode(level, index, hash, stored, completed);
    const stackLevel = this.stackLevel;
    const stackHash = this.stackHash;
    while (stackLevel.length > 0 && stackLevel[stackLevel.length - 1] === level) {
      stackLevel.pop();
      hash = this.hasher.node(stackHash.pop()!, hash);
      level++;
      index = Math.floor(index / 2);
      this.completeNode(level, index, hash, stored, completed);
    }
    stackLevel.push(level);
    stackHash.push(hash);

    const cp = this.pendingCheckpoints.get(this.size);
    if (cp !== undefined) {
      this.pendingCheckpoints.delete(this.size);
      this.compareRoot(cp, this.root());
    }
  }

  private completeNode(level: number, index: number, hash: Uint8Array, stored: StoredNodeLookup | null, completed: StoredNode[] | null): void {
    if (completed !== null) completed.push({ level, index, hash });
    if (stored !== null && (stored.hashEquals === undefined || !stored.hashEquals(level, index, hash))) this.compareNode(level, index, hash, stored.hashOf(level, index));
  }

  private compareNode(level: number, index: number, hash: Uint8Array, got: Uint8Array | null): void {
    if (got === null || !equal(got, hash)) {
      // Reported at the leaf whose append completed the node: where the stored tree stopped matching the log.
      this.report("TREE_NODE_MISMATCH", (index + 1) * 2 ** level - 1, RANK.node, `stored tree node level ${level} index ${index} is ${got ? toHex(got) : "missing"}, the entries give ${toHex(hash)}`);
    }
  }

  reportUnsequenced(entryIds: readonly string[]): void {
    for (const id of entryIds) this.report("ENTRY_UNSEQUENCED", null, RANK.unsequenced, `entry ${id} has neither a leaf index nor a place in the sequencer's queue`);
  }

  finish(head: { treeSize: number; rootHash: Uint8Array; checkpointSize: number }): AuditReport {
    for (const cp of this.pendingCheckpoints.values()) {
      this.report("CHECKPOINT_BEYOND_TREE", null, RANK.beyondTree, `a checkpoint signs size ${cp.treeSize}, but the ledger has only ${this.size} leaves: entries were deleted`);
    }
    if (head.treeSize !== this.size) {
      this.report("HEAD_MISMATCH", Math.min(head.treeSize, this.size), RANK.head, `ledger_head says ${head.treeSize} leaves, ${this.size} were found`);
    } else if (!equal(head.rootHash, this.root())) {
      this.report("HEAD_MISMATCH", null, RANK.headRoot, `ledger_head root ${toHex(head.rootHash)} differs from the re-derived root`);
    }
    const sorted = this.listed().map(({ check, leafIndex, message }) => ({ check, leafIndex, message }));
    return {
      ok: this.findingsTotal === 0,
      treeSize: this.size,
      checkpointsVerified: this.checkpointsVerified,
      firstFinding: sorted[0] ?? null,
      findings: sorted,
      findingsTotal: this.findingsTotal,
    };
  }
}
