/**
 * `custody-verify`: argument parsing and output, with the file system injected so this module stays
 * free of node: imports (cli.ts wires it to Node). Exit status: 0 valid, 1 invalid, 2 bad usage.
 *
 * Arguments are the auditor's, files are evidence: a malformed flag, a missing file or an
 * unparseable key is a usage error (2); anything wrong inside the evidence is a failed check (1).
 */
import type { VerifierKey } from "@custody/note";
import { decodeBase64 } from "@custody/encoding";
import { parseSecret } from "@custody/signing";
import { allOk, verifyCheckpoint, verifyConsistencyArgs, verifyInclusionArgs, verifyProof, verifyRedaction, type Check } from "./checks.js";
import { reason } from "./entries.js";
import { formatCheck } from "./format.js";
import { parseKeys } from "./keys.js";
import { assertReceiptKey } from "./receipt.js";

export interface Io {
  /** Reads a whole file; throws if it cannot or if it is larger than `maxBytes`. */
  readFile(path: string, maxBytes: number): Uint8Array;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE = `usage: custody-verify <command> [options]

  proof        --proof FILE --payload FILE --key VKEY [--key VKEY ...] [--secret whsec_...]
               [--receipt-key BASE64] [--json]
  checkpoint   --checkpoint FILE --key VKEY [--json]
  inclusion    --leaf-hash HEX --index N --size N --root HEX --proof HEX,HEX,... [--json]
  consistency  --size1 N --size2 N --root1 HEX --root2 HEX --proof HEX,HEX,... [--json]
  redaction    --proof FILE --original FILE [--key VKEY ...] [--json]

VKEY is a C2SP verifier key (name+hexid+base64) or @FILE: a file of such keys (one per line) or
the JSON of GET /api/v2/proofs/keys. Give every key a proof may need (keys before and after a
rotation); --key may be repeated. --proof "" is the empty proof. --receipt-key is the endpoint's
32-byte Ed25519 public key in base64 (or 64 hex digits). Checks are printed one per line
("✓ name — detail" / "✗ name — why"); --json prints {"ok", "checks"} instead.
Exit status: 0 valid, 1 invalid, 2 bad usage.`;

/** Evidence files are read whole; these bounds keep a hostile file from exhausting memory. */
const MAX_DOCUMENT_BYTES = 64 << 20;
const MAX_PAYLOAD_BYTES = 256 << 20;
const MAX_NOTE_FILE_BYTES = 1 << 20;
const MAX_KEY_FILE_BYTES = 1 << 20;
const MAX_BATCH_BYTES = 16 << 20;

class UsageError extends Error {
  override readonly name = "UsageError";
}

function usage(message: string): never {
  throw new UsageError(message);
}

interface Spec {
  /** value flags; `many` may be repeated */
  values: Record<string, { required: boolean; many?: boolean }>;
}

const COMMANDS: Record<string, Spec> = {
  proof: {
    values: {
      proof: { required: true },
      payload: { required: true },
      key: { required: true, many: true },
      secret: { required: false },
      "receipt-key": { required: false },
    },
  },
  checkpoint: { values: { checkpoint: { required: true }, key: { required: true, many: true } } },
  inclusion: { values: { "leaf-hash": { required: true }, index: { required: true }, size: { required: true }, root: { required: true }, proof: { required: true } } },
  consistency: { values: { size1: { required: true }, size2: { required: true }, root1: { required: true }, root2: { required: true }, proof: { required: true } } },
  redaction: { values: { proof: { required: true }, original: { required: true }, key: { required: false, many: true } } },
};

interface Parsed {
  command: string;
  values: Map<string, string[]>;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Parsed | "help" {
  if (argv.includes("--help") || argv.includes("-h")) return "help";
  const [command, ...rest] = argv;
  if (command === undefined) usage("no command given");
  const spec = COMMANDS[command];
  if (spec === undefined || !Object.hasOwn(COMMANDS, command)) usage(`unknown command ${JSON.stringify(command)}`);
  const values = new Map<string, string[]>();
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) usage(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (name === "json") {
      if (eq >= 0) usage("--json takes no value");
      json = true;
      continue;
    }
    const flag = Object.hasOwn(spec.values, name) ? spec.values[name] : undefined;
    if (flag === undefined) usage(`unknown option --${name} for ${command}`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = rest[i + 1];
      // A value may be empty (--proof "" is the empty proof) but not another option.
      if (next === undefined || next.startsWith("--")) usage(`--${name} needs a value`);
      value = next;
      i++;
    }
    const list = values.get(name) ?? [];
    if (list.length > 0 && !flag.many) usage(`--${name} given twice`);
    list.push(value);
    values.set(name, list);
  }
  for (const [name, flag] of Object.entries(spec.values)) {
    if (flag.required && !values.has(name)) usage(`${command} needs --${name}`);
  }
  return { command, values, json };
}

function one(p: Parsed, name: string): string {
  const v = p.values.get(name)?.[0];
  if (v === undefined) usage(`missing --${name}`);
  return v;
}

function optional(p: Parsed, name: string): string | undefined {
  return p.values.get(name)?.[0];
}

function read(io: Io, path: string, max: number, flag: string): Uint8Array {
  if (path === "") usage(`--${flag} needs a file name`);
  try {
    return io.readFile(path, max);
  } catch (err) {
    usage(`cannot read --${flag} ${path}: ${reason(err)}`);
  }
}

function keysFrom(io: Io, p: Parsed): VerifierKey[] {
  const keys: VerifierKey[] = [];
  for (const arg of p.values.get("key") ?? []) {
    const text = arg.startsWith("@") ? new TextDecoder().decode(read(io, arg.slice(1), MAX_KEY_FILE_BYTES, "key")) : arg;
    try {
      keys.push(...parseKeys(text));
    } catch (err) {
      usage(`--key: ${reason(err)}`);
    }
  }
  return keys;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Evidence JSON: a parse failure is a failed check, not a usage error. */
function parseJson(bytes: Uint8Array): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(utf8.decode(bytes)) };
  } catch (err) {
    return { error: `not UTF-8 JSON: ${reason(err)}` };
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const DECIMAL = /^[0-9]+$/;

function hexArg(p: Parsed, name: string): string {
  const v = one(p, name);
  if (!HEX.test(v)) usage(`--${name} must be hex`);
  return v;
}

function countArg(p: Parsed, name: string): string {
  const v = one(p, name);
  // Kept as a string: verifyInclusionArgs/verifyConsistencyArgs reject values past 2^53 - 1 as
  // invalid proofs (exit 1) rather than misreading them as a rounded number.
  if (!DECIMAL.test(v) || v.length > 30) usage(`--${name} must be a non-negative decimal integer`);
  return v;
}

function proofArg(p: Parsed): string[] {
  const v = one(p, "proof");
  if (v === "") return [];
  const hashes = v.split(",");
  for (const h of hashes) if (!HEX.test(h)) usage("--proof must be comma-separated hex hashes");
  return hashes;
}

function receiptKeyArg(p: Parsed): Uint8Array | undefined {
  const v = optional(p, "receipt-key");
  if (v === undefined) return undefined;
  const bytes = /^[0-9a-f]{64}$/i.test(v) ? Uint8Array.from(v.match(/../g)!.map((h) => Number.parseInt(h, 16))) : decodeBase64(v);
  if (bytes === undefined) usage("--receipt-key must be base64 (or 64 hex digits) of a 32-byte Ed25519 public key");
  try {
    assertReceiptKey(bytes);
  } catch (err) {
    usage(`--receipt-key: ${reason(err)}`);
  }
  return bytes;
}

function secretArg(p: Parsed): string | undefined {
  const v = optional(p, "secret");
  if (v === undefined) return undefined;
  try {
    parseSecret(v);
  } catch (err) {
    usage(`--secret: ${reason(err)}`);
  }
  return v;
}

function checksFor(p: Parsed, io: Io): Check[] {
  switch (p.command) {
    case "proof": {
      const keys = keysFrom(io, p);
      const secret = secretArg(p);
      const receiptKey = receiptKeyArg(p);
      const doc = parseJson(read(io, one(p, "proof"), MAX_DOCUMENT_BYTES, "proof"));
      const payload = read(io, one(p, "payload"), MAX_PAYLOAD_BYTES, "payload");
      if ("error" in doc) return [{ name: "document", ok: false, detail: doc.error }];
      return verifyProof({ document: doc.value, payload, key: keys, ...(secret === undefined ? {} : { secret }), ...(receiptKey === undefined ? {} : { receiptKey }) });
    }
    case "checkpoint": {
      const keys = keysFrom(io, p);
      return verifyCheckpoint(read(io, one(p, "checkpoint"), MAX_NOTE_FILE_BYTES, "checkpoint"), keys);
    }
    case "inclusion":
      return verifyInclusionArgs({ leafHash: hexArg(p, "leaf-hash"), index: countArg(p, "index"), size: countArg(p, "size"), root: hexArg(p, "root"), proof: proofArg(p) });
    case "consistency":
      return verifyConsistencyArgs({ size1: countArg(p, "size1"), size2: countArg(p, "size2"), root1: hexArg(p, "root1"), root2: hexArg(p, "root2"), proof: proofArg(p) });
    case "redaction": {
      const keys = p.values.has("key") ? keysFrom(io, p) : undefined;
      const doc = parseJson(read(io, one(p, "proof"), MAX_DOCUMENT_BYTES, "proof"));
      const original = parseJson(read(io, one(p, "original"), MAX_PAYLOAD_BYTES, "original"));
      if ("error" in doc) return [{ name: "document", ok: false, detail: doc.error }];
      if ("error" in original) return [{ name: "original", ok: false, detail: original.error }];
      return verifyRedaction({ document: doc.value, original: original.value, ...(keys === undefined ? {} : { key: keys }) });
    }
    default:
      usage(`unknown command ${p.command}`);
  }
}

function print(io: Io, checks: readonly Check[], json: boolean): number {
  const ok = allOk(checks);
  if (json) io.stdout(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  else io.stdout(checks.map((c) => `${formatCheck(c)}\n`).join(""));
  return ok ? 0 : 1;
}

/**
 * Hidden test-harness mode, `custody-verify --batch FILE`: FILE is a JSON array of
 * `{"command": "inclusion", "leafHash", "index", "size", "root", "proof": [hex…]}` and
 * `{"command": "consistency", "size1", "size2", "root1", "root2", "proof": [hex…]}` items; prints one
 * JSON line `{"ok", "checks"}` per item. Proofs are JSON arrays here, so it can also express a proof
 * of one empty hash, which the comma-separated --proof flag cannot.
 */
function batch(io: Io, path: string): number {
  const parsed = parseJson(read(io, path, MAX_BATCH_BYTES, "batch"));
  if ("error" in parsed || !Array.isArray(parsed.value)) usage("--batch FILE must hold a JSON array");
  let allValid = true;
  for (const item of parsed.value as unknown[]) {
    const o = (item ?? {}) as Record<string, unknown>;
    const strings = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : usage("batch: proof must be an array of hex strings"));
    const text = (v: unknown) => (typeof v === "string" ? v : usage("batch: hashes must be hex strings"));
    const num = (v: unknown) => (typeof v === "number" || typeof v === "string" ? v : usage("batch: sizes must be numbers or decimal strings"));
    let checks: Check[];
    if (o.command === "inclusion") {
      checks = verifyInclusionArgs({ leafHash: text(o.leafHash), index: num(o.index), size: num(o.size), root: text(o.root), proof: strings(o.proof) });
    } else if (o.command === "consistency") {
      checks = verifyConsistencyArgs({ size1: num(o.size1), size2: num(o.size2), root1: text(o.root1), root2: text(o.root2), proof: strings(o.proof) });
    } else {
      usage("batch: each item needs command inclusion or consistency");
    }
    const ok = allOk(checks);
    allValid &&= ok;
    io.stdout(`${JSON.stringify({ ok, checks })}\n`);
  }
  return allValid ? 0 : 1;
}

/** Runs the CLI; returns the exit status. */
export function runCli(argv: readonly string[], io: Io): number {
  try {
    if (argv[0] === "--batch") {
      if (argv.length !== 2 || argv[1] === undefined) usage("--batch FILE");
      return batch(io, argv[1]);
    }
    const parsed = parseArgs(argv);
    if (parsed === "help") {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    return print(io, checksFor(parsed, io), parsed.json);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`custody-verify: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    // A bug, not a verdict: say so, and never exit 0.
    io.stderr(`custody-verify: internal error: ${reason(err)}\n`);
    return 1;
  }
}
