/**
 * The verifier's single-purpose commands (proofs/FORMAT.md §1, §2): a checkpoint, an inclusion
 * proof, a consistency proof, each checked on its own.
 */
import { verifyConsistency, verifyInclusion } from "@custody/merkle";
import { fromHex, toHex } from "@custody/encoding";
import { parseCheckpoint, verifyNote, type NoteInput, type VerifierKey } from "@custody/note";
import { keyList } from "./context.js";
import { fail, reason } from "./entries.js";
import { run, type Check } from "./report.js";

/**
 * Verifies a signed checkpoint (C2SP tlog-checkpoint) with the given key(s). As for Custody's
 * ledger (FORMAT §2), the key that signs must be named by the checkpoint's origin, so a seal note
 * (`<origin>/seal`) never passes for a checkpoint.
 */
export function verifyCheckpoint(note: NoteInput, key: VerifierKey | readonly VerifierKey[]): Check[] {
  return [
    run("checkpoint", () => {
      let text: string;
      let verified: readonly string[];
      try {
        ({ text, verified } = verifyNote(note, keyList(key)));
      } catch (err) {
        fail(reason(err));
      }
      const cp = parseCheckpoint(text);
      if (!verified.includes(cp.origin)) {
        fail(`signed by ${verified.join(", ")}, but the origin is ${JSON.stringify(cp.origin)}: a checkpoint must be signed by the key named after its origin`);
      }
      const extensions = cp.extensions.length === 0 ? "" : `, ${cp.extensions.length} extension line(s)`;
      return `${cp.origin}, tree size ${cp.size}, root ${toHex(cp.rootHash)}${extensions}`;
    }),
  ];
}

/** A tree size or leaf index: a JS safe integer, or a decimal string (which may exceed 2^53 - 1). */
export type Count = number | bigint | string;

function count(value: Count, what: string): number {
  let n: bigint;
  if (typeof value === "string") {
    if (!/^[0-9]{1,30}$/.test(value)) fail(`${what} must be a non-negative decimal integer`);
    n = BigInt(value);
  } else if (typeof value === "bigint") {
    n = value;
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (!Number.isSafeInteger(value)) fail(`${what} ${value} exceeds 2^53 - 1, larger than any tree this verifier accepts`);
    n = BigInt(value);
  } else {
    fail(`${what} must be a non-negative integer`);
  }
  if (n < 0n) fail(`${what} must be non-negative`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${n} exceeds 2^53 - 1, larger than any tree this verifier accepts`);
  return Number(n);
}

function hash(value: string, what: string): Uint8Array {
  try {
    return fromHex(value);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
}

/** RFC 9162 §2.1.3.2: `leafHash` is leaf `index` of the tree of `size` leaves with `root`. Hashes in hex. */
export function verifyInclusionArgs(args: { leafHash: string; index: Count; size: Count; root: string; proof: readonly string[] }): Check[] {
  return [
    run("inclusion", () => {
      const index = count(args.index, "index");
      const size = count(args.size, "size");
      const proof = args.proof.map((p, i) => hash(p, `proof[${i}]`));
      verifyInclusion(hash(args.leafHash, "leaf hash"), index, size, proof, hash(args.root, "root"));
      return `leaf hash ${args.leafHash} is leaf ${index} of the tree of size ${size} with root ${args.root}`;
    }),
  ];
}

/** RFC 9162 §2.1.4.2: the tree (size2, root2) extends the tree (size1, root1). Hashes in hex. */
export function verifyConsistencyArgs(args: { size1: Count; size2: Count; root1: string; root2: string; proof: readonly string[] }): Check[] {
  return [
    run("consistency", () => {
      const size1 = count(args.size1, "size1");
      const size2 = count(args.size2, "size2");
      const proof = args.proof.map((p, i) => hash(p, `proof[${i}]`));
      verifyConsistency(size1, size2, proof, hash(args.root1, "root1"), hash(args.root2, "root2"));
      return `the tree of size ${size2} with root ${args.root2} extends the tree of size ${size1} with root ${args.root1}`;
    }),
  ];
}
