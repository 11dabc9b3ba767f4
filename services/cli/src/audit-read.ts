import type pg from "pg";
import { sql, type Database, type Kysely } from "@custody/db";
import type { AuditLeafBatch, NodeRange, StoredNodeLookup } from "@custody/ledger";
import { copyOut, forEachCopyTuple, type CopyBuffer } from "./audit-copy.js";

/*
 * How the audit reads the ledger: a chunk of leaves at a time, and the stored tree nodes the chunk
 * completes, each read in place (offsets into one buffer, no object per row). The command reads them
 * with binary COPY on a connection of its own, so bytes arrive as they are stored (no hex to decode);
 * any Kysely connection can run the same statements as rows (tests and other callers).
 */

/** A whole number for an SQL literal: the statements here are built from numbers the audit computed. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/** A place in the ledger's commit-safe order (libs/ledger-store commit-order.ts), as decimal text. */
export interface Position {
  xid: string;
  seq: string;
}

export const ORIGIN: Position = { xid: "0", seq: "0" };

function position(p: Position): string {
  if (!/^[0-9]{1,20}$/.test(p.xid) || !/^[0-9]{1,19}$/.test(p.seq)) throw new Error(`not a position: ${p.xid}, ${p.seq}`);
  return `('${p.xid}'::xid8, ${p.seq}::bigint)`;
}

/**
 * The leaves after leaf index `after` (up to `limit`), each with its entry (NULLs for a leaf whose
 * entry row is gone), in no particular order: leaf_index, body, leaf_hash, entry_id, rank.
 *
 * A leaf's entry is looked for first in a window of the entries that follow `from` in the
 * commit-safe order: the sequencer gives leaves in exactly that order, so the window holds the
 * page's entries and one hash join pairs them (a lookup per leaf in the text primary key costs
 * several times more). An entry outside the window (sequenced before migration 0006 out of seq
 * order, or moved by tampering) is looked up by id. `rank` is the entry's place in the window
 * (1, 2, …; NULL when looked up), from which the audit tells whether every entry of the window up
 * to the page's last one has a leaf (LeafChunk.reach).
 */
function leavesStatement(after: number, limit: number, from: Position): string {
  const lookup = (column: string) => `CASE WHEN w.id IS NULL THEN (SELECT e.${column} FROM ledger_entries e WHERE e.id = p.entry_id) ELSE w.${column} END`;
  return `
    WITH page AS (
      SELECT leaf_index, entry_id FROM ledger_leaves WHERE leaf_index > ${int(after)} ORDER BY leaf_index LIMIT ${int(limit)}
    ), win AS (
      SELECT id, body, leaf_hash, (row_number() OVER (ORDER BY xid, seq))::int AS rank
      FROM (${windowStatement(from, windowSize(limit))}) ordered
    )
    SELECT p.leaf_index, ${lookup("body")} AS body, ${lookup("leaf_hash")} AS leaf_hash, p.entry_id, w.rank
    FROM page p LEFT JOIN win w ON w.id = p.entry_id`;
}

/** The page's entries and a little more: entries without a leaf yet, or sequenced a little out of order. */
function windowSize(limit: number): number {
  return limit + (limit >> 5) + 256;
}

function windowStatement(from: Position, size: number): string {
  return `SELECT id, body, leaf_hash, xid, seq FROM ledger_entries WHERE (xid, seq) > ${position(from)} ORDER BY xid, seq LIMIT ${int(size)}`;
}

/**
 * The entries at these ranks of the window after `from` (as leavesStatement numbers it) that no
 * leaf points at: id, xid, seq. A probe of the leaves' entry_id index for each, and nothing else.
 */
export function strayStatement(from: Position, ranks: readonly number[]): string {
  const last = Math.max(...ranks);
  return `
    WITH picked AS MATERIALIZED (
      SELECT id, xid::text AS xid, seq::text AS seq FROM (
        SELECT id, xid, seq, row_number() OVER (ORDER BY xid, seq) AS rank FROM (${windowStatement(from, last)}) ordered
      ) w WHERE rank IN (${ranks.map(int).join(",")})
    )
    SELECT id, xid, seq FROM picked WHERE NOT (SELECT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.entry_id = picked.id))
    ORDER BY xid::xid8, seq::bigint`;
}

/** Planner settings for the reads (SET LOCAL): hash joins (see leavesStatement), no JIT for small queries. */
export const READ_SETTINGS = ["SET LOCAL enable_mergejoin = off", "SET LOCAL enable_nestloop = off", "SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'", "SET LOCAL max_parallel_workers_per_gather = 0"];
export const RESET_SETTINGS = ["SET LOCAL enable_mergejoin = on", "SET LOCAL enable_nestloop = on"];

/** The stored nodes in `ranges`, an index range scan per level: level, idx, hash. */
function nodesStatement(ranges: readonly NodeRange[]): string {
  return ranges.map((r) => `SELECT level, idx, hash FROM ledger_tree_nodes WHERE level = ${int(r.level)} AND idx BETWEEN ${int(r.first)} AND ${int(r.last)}`).join("\nUNION ALL ");
}

/**
 * Reads chunks of leaves and stored nodes inside the audit's transaction. A chunk stays valid while
 * the next one is read, and no longer (the reader may reuse its memory).
 */
export interface LedgerReader {
  leaves(after: number, limit: number, from: Position): Promise<LeafChunk>;
  nodes(ranges: readonly NodeRange[]): Promise<NodeChunk>;
}

/**
 * With binary COPY on a node-postgres client (the one the audit's transaction runs on): the rows
 * arrive as the COPY format's fields (int32 length, −1 for NULL, then the bytes as stored) and are
 * read in place.
 */
export function copyReader(client: pg.ClientBase): LedgerReader {
  // The audit holds one chunk while it reads the next: two buffers of each kind, in turn.
  const leafBuffers: CopyBuffer[] = [{ bytes: undefined }, { bytes: undefined }];
  const nodeBuffers: CopyBuffer[] = [{ bytes: undefined }, { bytes: undefined }];
  let leafTurn = 0;
  let nodeTurn = 0;
  return {
    async leaves(after, limit, from) {
      const bytes = await copyOut(client, `COPY (${leavesStatement(after, limit, from)}) TO STDOUT (FORMAT binary)`, leafBuffers[leafTurn++ % 2]);
      const chunk = new LeafChunk(bytes, limit);
      forEachCopyTuple(bytes, 5, (at) => chunk.add(at));
      return chunk.sorted();
    },
    async nodes(ranges) {
      const chunk = new NodeChunk(ranges);
      if (ranges.length === 0) return chunk;
      const bytes = await copyOut(client, `COPY (${nodesStatement(ranges)}) TO STDOUT (FORMAT binary)`, nodeBuffers[nodeTurn++ % 2]);
      chunk.bytes = bytes;
      forEachCopyTuple(bytes, 3, (at) => {
        if (bytes.readInt32BE(at) !== 2 || bytes.readInt32BE(at + 6) !== 8) throw new Error("tree node row is not (smallint, bigint, bytea)");
        const level = bytes.readInt16BE(at + 4);
        const index = bytes.readUInt32BE(at + 10) * 2 ** 32 + bytes.readUInt32BE(at + 14);
        const length = bytes.readInt32BE(at + 18);
        chunk.set(level, index, at + 22, length);
        return at + 22 + Math.max(0, length);
      });
      return chunk;
    },
  };
}

/** Through Kysely, on any connection: the same statements as rows (more work per row; tests and other callers). */
export function rowReader(db: Kysely<Database>): LedgerReader {
  return {
    async leaves(after, limit, from) {
      const { rows } = await sql<{ leaf_index: string; body: Buffer | null; leaf_hash: Buffer | null; entry_id: string; rank: number | null }>`${sql.raw(leavesStatement(after, limit, from))}`.execute(db);
      // Laid out as binary COPY fields, so that one chunk reader serves both.
      const parts: Buffer[] = [];
      const field = (b: Buffer | null) => {
        const length = Buffer.alloc(4);
        length.writeInt32BE(b === null ? -1 : b.length);
        parts.push(length);
        if (b !== null) parts.push(b);
      };
      const int8 = (v: string) => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(v));
        return b;
      };
      const int4 = (v: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(v);
        return b;
      };
      for (const r of rows) {
        field(int8(r.leaf_index));
        field(r.body);
        field(r.leaf_hash);
        field(Buffer.from(r.entry_id, "utf8"));
        field(r.rank === null ? null : int4(r.rank));
      }
      const bytes = Buffer.concat(parts);
      const chunk = new LeafChunk(bytes, rows.length);
      for (let at = 0; at < bytes.length; ) at = chunk.add(at);
      return chunk.sorted();
    },
    async nodes(ranges) {
      const chunk = new NodeChunk(ranges);
      if (ranges.length === 0) return chunk;
      const { rows } = await sql<{ level: number; idx: string; hash: Buffer }>`${sql.raw(nodesStatement(ranges))}`.execute(db);
      chunk.bytes = Buffer.concat(rows.map((r) => r.hash));
      let at = 0;
      for (const r of rows) {
        chunk.set(r.level, Number(r.idx), at, r.hash.length);
        at += r.hash.length;
      }
      return chunk;
    },
  };
}

const utf8 = new TextDecoder();

/** bytes[at, at + hash.length) equals hash. */
function equalAt(bytes: Buffer, at: number, hash: Uint8Array): boolean {
  for (let i = 0; i < hash.length; i++) if (bytes[at + i] !== hash[i]) return false;
  return true;
}

/**
 * A chunk of leaves: the fields of each row (leavesStatement) as offsets into one buffer laid out
 * as binary COPY fields (int32 length, −1 for NULL, then the bytes). Read in leaf-index order
 * (`sorted`).
 */
export class LeafChunk implements AuditLeafBatch {
  length = 0;
  private readonly indexes: Float64Array;
  private readonly bodyAt: Int32Array;
  private readonly bodyLength: Int32Array;
  private readonly hashAt: Int32Array;
  private readonly hashLength: Int32Array;
  private readonly idAt: Int32Array;
  private readonly idLength: Int32Array;
  /** The entry's rank in the window (leavesStatement), 0 when looked up or missing. */
  private readonly ranks: Uint32Array;
  /** Row i in leaf-index order is row order[i] as read; null when they were read in order. */
  private order: Uint32Array | null = null;

  constructor(
    private readonly bytes: Buffer,
    capacity: number,
  ) {
    this.indexes = new Float64Array(capacity);
    this.bodyAt = new Int32Array(capacity);
    this.bodyLength = new Int32Array(capacity);
    this.hashAt = new Int32Array(capacity);
    this.hashLength = new Int32Array(capacity);
    this.idAt = new Int32Array(capacity);
    this.idLength = new Int32Array(capacity);
    this.ranks = new Uint32Array(capacity);
  }

  /** Reads the row whose first field starts at `at` (binary COPY field layout); returns the offset after it. */
  add(at: number): number {
    const bytes = this.bytes;
    const i = this.length;
    if (i >= this.indexes.length) throw new Error("more leaves than asked for");
    if (bytes.readInt32BE(at) !== 8) throw new Error("leaf_index is not a bigint");
    this.indexes[i] = bytes.readUInt32BE(at + 4) * 2 ** 32 + bytes.readUInt32BE(at + 8);
    at = this.field(at + 12, i, this.bodyAt, this.bodyLength);
    at = this.field(at, i, this.hashAt, this.hashLength);
    at = this.field(at, i, this.idAt, this.idLength);
    const rankLength = bytes.readInt32BE(at);
    if (rankLength !== -1 && rankLength !== 4) throw new Error("rank is not an integer");
    this.ranks[i] = rankLength < 0 ? 0 : bytes.readUInt32BE(at + 4);
    this.length = i + 1;
    return at + 4 + Math.max(0, rankLength);
  }

  /**
   * Where the page reached in the window: the entry of its last leaf whose entry the window holds
   * (the next page's window starts at its position), and the window's ranks up to it that no leaf of
   * the page points at (none, unless entries were sequenced out of commit order or some entry has no
   * leaf). Undefined when the window holds none of the page's entries.
   */
  reach(): { entryId: string; unmatched: number[] } | undefined {
    let last = -1;
    for (let i = this.length - 1; i >= 0 && last < 0; i--) if (this.ranks[this.row(i)]! > 0) last = this.row(i);
    if (last < 0) return undefined;
    const upTo = this.ranks[last]!;
    const seen = new Uint8Array(upTo + 1);
    for (let r = 0; r < this.length; r++) {
      const rank = this.ranks[r]!;
      if (rank > 0 && rank <= upTo) seen[rank] = 1;
    }
    const unmatched: number[] = [];
    for (let rank = 1; rank <= upTo; rank++) if (seen[rank] === 0) unmatched.push(rank);
    return { entryId: utf8.decode(this.bytes.subarray(this.idAt[last]!, this.idAt[last]! + this.idLength[last]!)), unmatched };
  }

  private field(at: number, i: number, offsets: Int32Array, lengths: Int32Array): number {
    const length = this.bytes.readInt32BE(at);
    offsets[i] = at + 4;
    lengths[i] = length;
    return at + 4 + Math.max(0, length);
  }

  /** Puts the rows in leaf-index order (ties as read). */
  sorted(): this {
    const { indexes, length } = this;
    let inOrder = true;
    for (let i = 1; i < length && inOrder; i++) inOrder = indexes[i - 1]! <= indexes[i]!;
    if (!inOrder) this.order = Uint32Array.from({ length }, (_, i) => i).sort((a, b) => indexes[a]! - indexes[b]! || a - b);
    return this;
  }

  private row(i: number): number {
    return this.order === null ? i : this.order[i]!;
  }

  /** The largest leaf index in the chunk: where the next chunk starts after. */
  get lastLeafIndex(): number {
    return this.indexes[this.row(this.length - 1)]!;
  }

  leafIndex(i: number): number {
    return this.indexes[this.row(i)]!;
  }

  body(i: number): Uint8Array | null {
    const r = this.row(i);
    const length = this.bodyLength[r]!;
    return length < 0 ? null : this.bytes.subarray(this.bodyAt[r]!, this.bodyAt[r]! + length);
  }

  storedLeafHashEquals(i: number, hash: Uint8Array): boolean {
    const r = this.row(i);
    return this.hashLength[r] === hash.length && equalAt(this.bytes, this.hashAt[r]!, hash);
  }

  storedLeafHash(i: number): Uint8Array | null {
    const r = this.row(i);
    const length = this.hashLength[r]!;
    return length < 0 ? null : this.bytes.subarray(this.hashAt[r]!, this.hashAt[r]! + length);
  }

  entryId(i: number): string {
    const r = this.row(i);
    return utf8.decode(this.bytes.subarray(this.idAt[r]!, this.idAt[r]! + this.idLength[r]!));
  }

  /** Bytes of entries, for sizing the next chunk. */
  get byteLength(): number {
    return this.bytes.length;
  }
}

/** Stored nodes of the ranges asked for, by (level, index): offsets into one buffer (a node stored twice reads as the last one). */
export class NodeChunk implements StoredNodeLookup {
  bytes: Buffer = Buffer.alloc(0);
  // Per level: the first index of its range, and per index the hash's offset (−1: not stored).
  private readonly first: number[] = [];
  private readonly hashAt: Int32Array[] = [];
  private readonly hashLength: Int32Array[] = [];

  constructor(ranges: readonly NodeRange[]) {
    for (const r of ranges) {
      this.first[r.level] = r.first;
      this.hashAt[r.level] = new Int32Array(r.last - r.first + 1).fill(-1);
      this.hashLength[r.level] = new Int32Array(r.last - r.first + 1);
    }
  }

  set(level: number, index: number, at: number, length: number): void {
    const offsets = this.hashAt[level];
    const slot = index - (this.first[level] ?? 0);
    if (offsets === undefined || slot < 0 || slot >= offsets.length) throw new Error(`tree node ${level}:${index} was not asked for`);
    offsets[slot] = at;
    this.hashLength[level]![slot] = length;
  }

  hashEquals(level: number, index: number, hash: Uint8Array): boolean {
    const offsets = this.hashAt[level];
    if (offsets === undefined) return false;
    const slot = index - this.first[level]!;
    const at = offsets[slot];
    return at !== undefined && at >= 0 && this.hashLength[level]![slot] === hash.length && equalAt(this.bytes, at, hash);
  }

  hashOf(level: number, index: number): Uint8Array | null {
    const offsets = this.hashAt[level];
    if (offsets === undefined) return null;
    const slot = index - this.first[level]!;
    const at = offsets[slot];
    if (at === undefined || at < 0) return null;
    return this.bytes.subarray(at, at + Math.max(0, this.hashLength[level]![slot]!));
  }
}
