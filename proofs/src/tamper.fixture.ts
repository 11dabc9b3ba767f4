/**
 * Tampering with chain-of-custody documents for the verifier's tests: flip one byte of one field
 * (hex hashes, base64 entries, note text, header values), keeping the field well-formed where the
 * encoding allows it so the flip reaches the cryptographic checks rather than the schema, and
 * report which check fails first.
 */
import { fromHex, toHex, decodeBase64, encodeBase64 } from "@custody/encoding";
import { verifyProof, type Check, type CheckName, type ProofInput } from "./checks.js";
import { formatCheck } from "./format.js";

export type Json = Record<string, any>;
export type Path = ReadonlyArray<string | number>;
export type Kind = "hex" | "base64" | "text";

export function getAt(doc: Json, path: Path): unknown {
  let cur: any = doc;
  for (const key of path) cur = cur[key];
  return cur;
}

export function setAt(doc: Json, path: Path, value: unknown): void {
  let cur: any = doc;
  for (const key of path.slice(0, -1)) cur = cur[key];
  cur[path[path.length - 1]!] = value;
}

const enc = new TextEncoder();
// Not fatal: a flip inside a multi-byte character becomes U+FFFD, still a different string.
const dec = new TextDecoder();

export function byteLength(kind: Kind, value: string): number {
  if (kind === "hex") return value.length / 2;
  if (kind === "base64") return decodeBase64(value)!.length;
  return enc.encode(value).length;
}

/** `value` with byte `i` XOR 1, re-encoded in the same encoding. */
export function flip(kind: Kind, value: string, i: number): string {
  const bytes = kind === "hex" ? fromHex(value) : kind === "base64" ? decodeBase64(value)! : enc.encode(value);
  const out = Uint8Array.from(bytes);
  out[i]! ^= 1;
  return kind === "hex" ? toHex(out) : kind === "base64" ? encodeBase64(out) : dec.decode(out);
}

/** Byte positions 0, stride, 2·stride, … shifted by `offset`, always including the last byte. */
export function positions(length: number, stride: number, offset = 0): number[] {
  const out: number[] = [];
  for (let i = offset % stride; i < length; i += stride) out.push(i);
  if (length > 0 && out[out.length - 1] !== length - 1) out.push(length - 1);
  return out;
}

export interface Target {
  path: Path;
  kind: Kind;
  /** The check that must be the first to fail, or how to tell it from the flipped value. */
  expect: CheckName | ((flipped: string) => CheckName);
  stride: number;
}

export const firstFailure = (checks: readonly Check[]): Check | undefined => checks.find((c) => !c.ok);

/** Flips each byte of the payload in turn; lists the flips whose first failing check is not `prepared`. */
export function payloadFlipsNotFailingPrepared(document: Json, payload: Uint8Array, key: ProofInput["key"]): string[] {
  const wrong: string[] = [];
  for (const i of positions(payload.length, 1)) {
    const flipped = Uint8Array.from(payload);
    flipped[i]! ^= 1;
    const failed = firstFailure(verifyProof({ document, payload: flipped, key }));
    if (failed?.name !== "prepared") wrong.push(`payload byte ${i}: ${failed ? formatCheck(failed) : "passed"}`);
  }
  return wrong;
}

/**
 * Flips each chosen byte of each target in a fresh copy of the document and verifies it. Returns
 * the flips whose first failing check was not the expected one (empty when the verifier caught
 * every flip with the right check), and how many flips ran.
 */
export function flipAll(input: Omit<ProofInput, "document"> & { document: Json }, targets: readonly Target[]): { wrong: string[]; flips: number } {
  const wrong: string[] = [];
  let flips = 0;
  targets.forEach((target, n) => {
    const original = getAt(input.document, target.path);
    if (typeof original !== "string") throw new Error(`no string at ${target.path.join(".")}`);
    for (const i of positions(byteLength(target.kind, original), target.stride, n)) {
      const doc = structuredClone(input.document);
      const flipped = flip(target.kind, original, i);
      setAt(doc, target.path, flipped);
      const failed = firstFailure(verifyProof({ ...input, document: doc }));
      const expected = typeof target.expect === "function" ? target.expect(flipped) : target.expect;
      flips++;
      if (failed?.name !== expected) wrong.push(`${target.path.join(".")} byte ${i}: expected ✗ ${expected}, got ${failed ? formatCheck(failed) : "every check passing"}`);
    }
  });
  return { wrong, flips };
}

/** Applies whole-value edits (numbers, ids, nulls) one at a time; same report as flipAll. */
export function editAll(input: Omit<ProofInput, "document"> & { document: Json }, edits: ReadonlyArray<{ what: string; edit: (doc: Json) => void; expect: CheckName }>): string[] {
  const wrong: string[] = [];
  for (const { what, edit, expect } of edits) {
    const doc = structuredClone(input.document);
    edit(doc);
    const failed = firstFailure(verifyProof({ ...input, document: doc }));
    if (failed?.name !== expect) wrong.push(`${what}: expected ✗ ${expect}, got ${failed ? formatCheck(failed) : "every check passing"}`);
  }
  return wrong;
}
