/**
 * The audit core as it was before the batch rewrite (git 7c4464b, libs/ledger/src/audit.ts), kept
 * verbatim but for this comment and the imports: audit.test.ts checks that LedgerAuditor reports
 * exactly what this one does.
 */
import { toHex as hex } from "@custody/encoding";
import { appendLeaves, leafHash, nodeKey, type StoredNode } from "@custody/merkle";
import { parseCheckpoint, verifyNote, type VerifierKey } from "@custody/note";
import type { AuditCheck, AuditCheckpoint, AuditFinding, AuditLeaf, AuditReport } from "./audit.js";
import { parseEntry } from "./documents.js";

const MAX_FINDINGS = 100;
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Re-derives the whole ledger from its stored bytes, independent of anything the sequencer
 * stored about it: every leaf hash from the entry bytes, the tree from the leaves, and every
 * checkpoint's root from that tree. Pure: the caller streams rows in (in leaf-index order) and
 * hands back the stored tree nodes this class asks to compare.
 */
export class ReferenceAuditor {
  private size = 0;
  private frontier: StoredNode[] = [];
  private readonly pendingCheckpoints = new Map<number, AuditCheckpoint>();
  private checkpointsVerified = 0;
  private findingsTotal = 0;
  private readonly findings: AuditFinding[] = [];

  constructor(
    private readonly keys: readonly VerifierKey[],
    private readonly origin: string | undefined,
  ) {}

  get treeSize(): number {
    return this.size;
  }

  private report(check: AuditCheck, leafIndex: number | null, message: string): void {
    this.findingsTotal++;
    if (this.findings.length < MAX_FINDINGS) this.findings.push({ check, leafIndex, message });
  }

  /** Checks each checkpoint's signature now; its root is compared when the tree reaches its size. */
  addCheckpoints(checkpoints: readonly AuditCheckpoint[]): void {
    for (const cp of checkpoints) {
      try {
        // Any platform key, current or retired, may have signed it.
        const opened = parseCheckpoint(verifyNote(cp.note, this.keys).text);
        if (this.origin !== undefined && opened.origin !== this.origin) throw new Error(`origin is ${opened.origin}, expected ${this.origin}`);
        if (opened.size !== cp.treeSize || !equal(opened.rootHash, cp.rootHash)) {
          throw new Error(`the row says size ${cp.treeSize} root ${hex(cp.rootHash)}, its signed note says size ${opened.size} root ${hex(opened.rootHash)}`);
        }
      } catch (err) {
        this.report("CHECKPOINT_INVALID", null, `checkpoint for size ${cp.treeSize}: ${(err as Error).message}`);
        continue;
      }
      this.checkpointsVerified++;
      if (cp.treeSize <= this.size) this.compareCheckpointNow(cp);
      else this.pendingCheckpoints.set(cp.treeSize, cp);
    }
  }

  private compareCheckpointNow(cp: AuditCheckpoint): void {
    if (cp.treeSize < this.size) {
      throw new Error(`checkpoint for size ${cp.treeSize} arrived after the audit passed that size; add checkpoints before their leaves`);
    }
    const root = this.root();
    if (!equal(root, cp.rootHash)) {
      this.report("CHECKPOINT_ROOT_MISMATCH", Math.max(0, cp.treeSize - 1), `signed checkpoint for size ${cp.treeSize} has root ${hex(cp.rootHash)}, the entries give ${hex(root)}`);
    }
  }

  private root(): Uint8Array {
    return appendLeaves(this.frontier, this.size, []).root;
  }

  /**
   * Appends leaves (in index order) to the re-derived tree and returns every perfect node they
   * complete, which the caller compares with the stored nodes through `compareNodes`.
   */
  addLeaves(leaves: readonly AuditLeaf[]): StoredNode[] {
    const completed: StoredNode[] = [];
    for (const leaf of leaves) {
      if (leaf.leafIndex !== this.size) {
        this.report("LEAF_INDEX_GAP", this.size, `expected leaf index ${this.size}, found ${leaf.leafIndex}: a leaf was deleted, duplicated or reordered`);
      }
      let hash: Uint8Array;
      if (leaf.body === null) {
        this.report("ENTRY_MISSING", this.size, `leaf ${this.size} points at entry ${leaf.entryId}, which no longer exists`);
        hash = new Uint8Array(32);
      } else {
        hash = leafHash(leaf.body);
        if (leaf.storedLeafHash !== null && !equal(hash, leaf.storedLeafHash)) {
          this.report("LEAF_HASH_MISMATCH", this.size, `entry ${leaf.entryId} at leaf ${this.size}: stored leaf hash ${hex(leaf.storedLeafHash)}, bytes hash to ${hex(hash)}`);
        }
        try {
          parseEntry(leaf.body);
        } catch (err) {
          this.report("ENTRY_MALFORMED", this.size, `entry ${leaf.entryId} at leaf ${this.size}: ${(err as Error).message}`);
        }
      }
      const result = appendLeaves(this.frontier, this.size, [hash]);
      completed.push(...result.newNodes);
      this.frontier = [...result.frontier];
      this.size = result.size;
      const cp = this.pendingCheckpoints.get(this.size);
      if (cp) {
        this.pendingCheckpoints.delete(this.size);
        if (!equal(result.root, cp.rootHash)) {
          this.report("CHECKPOINT_ROOT_MISMATCH", this.size - 1, `signed checkpoint for size ${this.size} has root ${hex(cp.rootHash)}, the entries give ${hex(result.root)}`);
        }
      }
    }
    return completed;
  }

  /** Stored nodes must equal the re-derived ones: proofs are served from them. */
  compareNodes(expected: readonly StoredNode[], stored: ReadonlyMap<string, Uint8Array>): void {
    for (const node of expected) {
      const got = stored.get(nodeKey(node));
      if (!got || !equal(got, node.hash)) {
        // Reported at the leaf whose append completed the node: where the stored tree stopped matching the log.
        this.report("TREE_NODE_MISMATCH", (node.index + 1) * 2 ** node.level - 1, `stored tree node level ${node.level} index ${node.index} is ${got ? hex(got) : "missing"}, the entries give ${hex(node.hash)}`);
      }
    }
  }

  reportUnsequenced(entryIds: readonly string[]): void {
    for (const id of entryIds) this.report("ENTRY_UNSEQUENCED", null, `entry ${id} has neither a leaf index nor a place in the sequencer's queue`);
  }

  finish(head: { treeSize: number; rootHash: Uint8Array; checkpointSize: number }): AuditReport {
    for (const cp of this.pendingCheckpoints.values()) {
      this.report("CHECKPOINT_BEYOND_TREE", null, `a checkpoint signs size ${cp.treeSize}, but the ledger has only ${this.size} leaves: entries were deleted`);
    }
    if (head.treeSize !== this.size) {
      this.report("HEAD_MISMATCH", Math.min(head.treeSize, this.size), `ledger_head says ${head.treeSize} leaves, ${this.size} were found`);
    } else if (!equal(head.rootHash, this.root())) {
      this.report("HEAD_MISMATCH", null, `ledger_head root ${hex(head.rootHash)} differs from the re-derived root`);
    }
    const sorted = [...this.findings].sort((a, b) => (a.leafIndex ?? Infinity) - (b.leafIndex ?? Infinity));
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
