// Test-only: loads the shared RFC 9162 known-answer vectors. Never imported by the library.
import { readFileSync } from "node:fs";
import { fromHex } from "@custody/encoding";

export interface InclusionProbe {
  file: string;
  desc: string;
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  root: string;
  proof: string[];
  want_err: boolean;
}

export interface ConsistencyProbe {
  file: string;
  desc: string;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
  want_err: boolean;
}

export interface MerkleVectors {
  leaves_hex: string[];
  leaf_hashes_hex: string[];
  node_hashes_by_level: Record<string, string[]>;
  empty_root: string;
  roots: Record<string, string>;
  inclusion: Array<{ leaf_index: number; tree_size: number; leaf_hex: string; leaf_hash: string; root: string; proof: string[] }>;
  consistency: Array<{ size1: number; size2: number; root1: string; root2: string; proof: string[] }>;
  probes: { inclusion: InclusionProbe[]; consistency: ConsistencyProbe[] };
}

export const VECTORS_PATH = new URL("../../../test/fixtures/vectors/merkle_vectors.json", import.meta.url);

export const vectors: MerkleVectors = JSON.parse(readFileSync(VECTORS_PATH, "utf8")) as MerkleVectors;

export const leafHashes: Uint8Array[] = vectors.leaf_hashes_hex.map(fromHex);

/** Every stored node of the 8-leaf vector tree, keyed "level:index". */
export const vectorNodes: Map<string, Uint8Array> = new Map(Object.entries(vectors.node_hashes_by_level).flatMap(([level, hashes]) => hashes.map((h, index): [string, Uint8Array] => [`${level}:${index}`, fromHex(h)])));

export function rootOf(size: number): Uint8Array {
  const hex = vectors.roots[String(size)];
  if (hex === undefined) throw new Error(`no vector root for size ${size}`);
  return fromHex(hex);
}
