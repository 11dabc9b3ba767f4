import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerifierKey, generateSigner, verifierKeyOf } from "@custody/note";
import { encodeBase64 } from "@custody/encoding";
import { buildFixtureV2 } from "./document-v2.fixture.js";
import { buildFixture, DATA, ORIGIN, signer } from "./document.fixture.js";

/*
 * The BUILT bundle, run as users run it: `node custody-verify.mjs …` in a child process. The build
 * goes to a temp dir so parallel test files do not race, and so the committed verifier.html is
 * compared with a fresh build instead of being overwritten by it.
 */
const here = dirname(fileURLToPath(import.meta.url));
const proofsDir = resolve(here, "..");
const repo = resolve(proofsDir, "..");
const work = mkdtempSync(join(tmpdir(), "custody-verify-"));
const cli = join(work, "custody-verify.mjs");
const file = (name: string) => join(work, name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], cwd = work): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { cwd, maxBuffer: 16 << 20, env: { PATH: process.env.PATH ?? "" } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight (child processes on a 2-core machine). */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const PROOF_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "seal", "custody entry", "outcome", "hmac", "receipt"];
const LINE = /^([✓✗]) (.+?) — (.+)$/;
const lines = (stdout: string) => stdout.trimEnd().split("\n");
const namesOf = (stdout: string) => lines(stdout).map((l) => LINE.exec(l)?.[2]);

const fx = buildFixture();
const v2 = buildFixtureV2();
const newSigner = generateSigner(ORIGIN);
const mixed = buildFixture({ checkpointSigner: newSigner, sealSigners: [signer, newSigner] });

beforeAll(() => {
  execFileSync(process.execPath, [join(proofsDir, "build.mjs"), "--out", work], { cwd: repo, stdio: "pipe" });
  writeFileSync(file("doc.json"), JSON.stringify(fx.document, null, 2));
  writeFileSync(file("thin.bin"), fx.thin.body);
  writeFileSync(file("fat.bin"), fx.fat.body);
  const flipped = Uint8Array.from(fx.thin.body);
  flipped[17]! ^= 1;
  writeFileSync(file("flipped.bin"), flipped);
  writeFileSync(file("vkey"), `${fx.vkey}\n`);
  writeFileSync(file("checkpoint"), (fx.document as { checkpoint: string }).checkpoint);
  writeFileSync(file("seal-note"), (fx.document as any).deliveries[0].attempts[0].seal.note);
  writeFileSync(file("original.json"), JSON.stringify({ data: DATA }));
  writeFileSync(file("forged-original.json"), JSON.stringify({ data: { ...DATA, email: "eve@example.com" } }));
  writeFileSync(file("not-json.json"), "{ nope");
  writeFileSync(file("mixed.json"), JSON.stringify(mixed.document));
  writeFileSync(file("mixed.bin"), mixed.thin.body);
  writeFileSync(
    file("keys.json"),
    JSON.stringify({ keys: [formatVerifierKey(verifierKeyOf(newSigner)), formatVerifierKey(verifierKeyOf(signer))].map((vkey, i) => ({ keyId: String(i), vkey, validFrom: "2025-01-01T00:00:00.000Z", validTo: null })) }),
  );
  const tampered = structuredClone(fx.document) as any;
  const entry = Buffer.from(tampered.deliveries[1].attempts[0].custody.entry, "base64");
  entry[40]! ^= 1;
  tampered.deliveries[1].attempts[0].custody.entry = entry.toString("base64");
  writeFileSync(file("tampered.json"), JSON.stringify(tampered));
  writeFileSync(file("v2.json"), JSON.stringify(v2.document, null, 2));
  writeFileSync(file("v2-thin.bin"), v2.thin.body);
  writeFileSync(file("v2-replay.bin"), v2.replay.body);
  const gap = structuredClone(v2.document) as any;
  gap.deliveries[0].attempts.splice(1, 1);
  writeFileSync(file("v2-gap.json"), JSON.stringify(gap));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the bundle", () => {
  it("is one executable ESM file that needs nothing but node", async () => {
    const text = readFileSync(cli, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(statSync(cli).mode & 0o111).not.toBe(0);
    const imports = [...text.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]);
    expect(imports.every((m) => m!.startsWith("node:"))).toBe(true);
    // Copied where no node_modules can be found, it still verifies a document.
    const alone = mkdtempSync(join(tmpdir(), "custody-verify-alone-"));
    try {
      copyFileSync(cli, join(alone, "custody-verify.mjs"));
      const result = await new Promise<Run>((done) =>
        execFile(process.execPath, [join(alone, "custody-verify.mjs"), "proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", `@${file("vkey")}`], { cwd: alone }, (err, stdout, stderr) =>
          done({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
        ),
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it("matches the committed proofs/verifier.html (run `npm run build -w proofs` and commit it if this fails)", () => {
    const fresh = readFileSync(file("verifier.html"), "utf8");
    const committed = readFileSync(join(proofsDir, "verifier.html"), "utf8");
    expect(committed === fresh, "proofs/verifier.html is stale: run `npm run build -w proofs`").toBe(true);
  });
});

describe("custody-verify proof", () => {
  it("prints one ✓ line per check, in FORMAT §12 order, and exits 0", async () => {
    const r = await run(["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", `@${file("vkey")}`, "--secret", fx.thin.secret, "--receipt-key", encodeBase64(fx.thin.receiptKey)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(lines(r.stdout).every((l) => l.startsWith("✓ "))).toBe(true);
    expect(namesOf(r.stdout)).toEqual(PROOF_ORDER);
  });

  it("--json prints {ok, checks}", async () => {
    const r = await run(["proof", "--json", "--proof", file("doc.json"), "--payload", file("fat.bin"), "--key", fx.vkey]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.name)).toEqual(PROOF_ORDER.slice(0, 9));
    const bad = await run(["proof", "--json", "--proof", file("doc.json"), "--payload", file("flipped.bin"), "--key", fx.vkey]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      checks: [
        { name: "checkpoint", ok: true },
        { name: "event", ok: true },
        { name: "prepared", ok: false },
      ],
    });
  });

  it("exits 1 and names the failing check for forged evidence", async () => {
    const cases: Array<[string[], string]> = [
      [["--proof", file("doc.json"), "--payload", file("flipped.bin"), "--key", fx.vkey], "✗ prepared — "],
      [["--proof", file("tampered.json"), "--payload", file("thin.bin"), "--key", fx.vkey], "✗ custody entry — dlv_fat#1: "],
      [["--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", formatVerifierKey(verifierKeyOf(generateSigner(ORIGIN)))], "✗ checkpoint — "],
      [["--proof", file("not-json.json"), "--payload", file("thin.bin"), "--key", fx.vkey], "✗ document — not UTF-8 JSON"],
      [["--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", fx.vkey, "--secret", fx.fat.secret], "✗ hmac — "],
    ];
    const results = await pool(cases, 4, ([args]) => run(["proof", ...args]));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![1]).toBe(1);
      expect(r.stdout).toContain(cases[i]![1]);
    });
  });

  it("takes several keys, repeated or from the keys endpoint's JSON, for documents spanning a rotation", async () => {
    const old = formatVerifierKey(verifierKeyOf(signer));
    const fresh = formatVerifierKey(verifierKeyOf(newSigner));
    const [both, json, onlyNew] = await Promise.all([
      run(["proof", "--proof", file("mixed.json"), "--payload", file("mixed.bin"), "--key", fresh, "--key", old]),
      run(["proof", "--proof", file("mixed.json"), "--payload", file("mixed.bin"), "--key", `@${file("keys.json")}`]),
      run(["proof", "--proof", file("mixed.json"), "--payload", file("mixed.bin"), "--key", fresh]),
    ]);
    expect(both.code).toBe(0);
    expect(json.code).toBe(0);
    expect(onlyNew.code).toBe(1);
    expect(onlyNew.stdout).toContain("✗ seal — ");
  });
});

describe("custody-verify checkpoint and redaction", () => {
  it("verifies the Tessera test log's real checkpoints, and refuses a note that is not a checkpoint or a seal", async () => {
    const text = readFileSync(join(repo, "test/fixtures/vectors/checkpoint_example.txt"), "utf8");
    const vkey = /^vkey: (example\.com\/log\/testdata\+\S+)$/m.exec(text)![1]!;
    const notes = [...text.matchAll(/-----BEGIN CHECKPOINT size=(\d+) [^\n]*-----\n([\s\S]*?)-----END CHECKPOINT-----/g)].map((m) => ({ size: m[1]!, note: m[2]! }));
    expect(notes).toHaveLength(16);
    // All 16 go through verifyCheckpoint in checks.test.ts; here the smallest, a middle and the largest.
    const picked = [0, 7, 15];
    picked.forEach((i) => {
      writeFileSync(file(`tessera-${i}`), notes[i]!.note);
    });
    const results = await pool(picked, 3, (i) => run(["checkpoint", "--checkpoint", file(`tessera-${i}`), "--key", vkey]));
    results.forEach((r, n) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`✓ checkpoint — example.com/log/testdata, tree size ${notes[picked[n]!]!.size}, root ${Buffer.from(notes[picked[n]!]!.note.split("\n")[2]!, "base64").toString("hex")}\n`);
    });
    const fooKey = /^vkey: (example\.com\/foo\+\S+)$/m.exec(text)![1]!;
    writeFileSync(file("note-a"), /-----BEGIN NOTE-----\n([\s\S]*?)-----END NOTE-----/.exec(text)![1]!);
    const [generic, seal, ours] = await Promise.all([
      run(["checkpoint", "--checkpoint", file("note-a"), "--key", fooKey]),
      run(["checkpoint", "--checkpoint", file("seal-note"), "--key", fx.vkey]),
      run(["checkpoint", "--checkpoint", file("checkpoint"), "--key", fx.vkey]),
    ]);
    expect(generic.code).toBe(1);
    expect(seal.code).toBe(1);
    expect(seal.stdout).toContain("✗ checkpoint — ");
    expect(ours.code).toBe(0);
  });

  it("checks a producer's original against the redaction records", async () => {
    const [plain, keyed, forged] = await Promise.all([
      run(["redaction", "--proof", file("doc.json"), "--original", file("original.json")]),
      run(["redaction", "--proof", file("doc.json"), "--original", file("original.json"), "--key", fx.vkey]),
      run(["redaction", "--proof", file("doc.json"), "--original", file("forged-original.json")]),
    ]);
    expect(plain.code).toBe(0);
    expect(namesOf(plain.stdout)).toEqual(["event", "original", "redaction", "redaction"]);
    expect(keyed.code).toBe(0);
    expect(namesOf(keyed.stdout)).toEqual(["checkpoint", "event", "original", "root", "seal", "custody entry", "redaction", "redaction"]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("✗ original — ");
  });
});

describe("custody-verify on format 2 documents", () => {
  const V2_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "custody record", "seal", "chain", "outcome", "hmac", "receipt"];

  it("prints the FORMAT §14 checks of a custody-chain/v2 document and exits 0", async () => {
    const [thin, replay] = await Promise.all([
      run(["proof", "--proof", file("v2.json"), "--payload", file("v2-thin.bin"), "--key", v2.vkey, "--secret", v2.thin.secret, "--receipt-key", encodeBase64(v2.thin.receiptKey)]),
      run(["proof", "--json", "--proof", file("v2.json"), "--payload", file("v2-replay.bin"), "--key", v2.vkey, "--secret", v2.replay.secret]),
    ]);
    expect(thin.stderr).toBe("");
    expect(thin.code).toBe(0);
    expect(namesOf(thin.stdout)).toEqual(V2_ORDER);
    expect(lines(thin.stdout).every((l) => l.startsWith("✓ "))).toBe(true);
    expect(replay.code).toBe(0);
    expect((JSON.parse(replay.stdout) as { checks: Array<{ name: string }> }).checks.map((c) => c.name)).toEqual(V2_ORDER.slice(0, -1));
  });

  it("exits 1 for an attempt omitted from the middle of a delivery, naming the chain", async () => {
    const r = await run(["proof", "--proof", file("v2-gap.json"), "--payload", file("v2-thin.bin"), "--key", v2.vkey]);
    expect(r.code).toBe(1);
    expect(lines(r.stdout).filter((l) => l.startsWith("✗ "))).toEqual(["✗ chain — dlv_thin: the attempts are listed as 1, 3, not 1 to 2 in order"]);
  });

  it("checks a producer's original against a format 2 document", async () => {
    const r = await run(["redaction", "--proof", file("v2.json"), "--original", file("original.json"), "--key", v2.vkey]);
    expect(r.code).toBe(0);
    expect(namesOf(r.stdout)).toEqual(["checkpoint", "event", "original", "root", "custody record", "seal", "redaction", "redaction", "redaction", "redaction", "redaction"]);
  });
});

describe("usage", () => {
  it("--help prints the usage and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: custody-verify <command>/);
    for (const command of ["proof", "checkpoint", "inclusion", "consistency", "redaction"]) expect(r.stdout).toContain(`  ${command} `);
  });

  it("exits 2 with the usage for bad or missing flags", async () => {
    const bad: string[][] = [
      [],
      ["verify"],
      ["proof", "--proof", file("doc.json"), "--key", fx.vkey],
      ["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", fx.vkey, "--frobnicate", "1"],
      ["proof", "--proof", file("doc.json"), "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", fx.vkey],
      ["proof", "--proof", file("missing.json"), "--payload", file("thin.bin"), "--key", fx.vkey],
      ["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", "not-a-key"],
      ["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", `@${file("missing")}`],
      ["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", fx.vkey, "--secret", "hunter2"],
      ["proof", "--proof", file("doc.json"), "--payload", file("thin.bin"), "--key", fx.vkey, "--receipt-key", "AAAA"],
      ["proof", "--proof", file("doc.json"), "--payload", "--key", fx.vkey],
      ["inclusion", "--leaf-hash", "zz", "--index", "0", "--size", "1", "--root", "00", "--proof", ""],
      ["inclusion", "--leaf-hash", "00", "--index", "-1", "--size", "1", "--root", "00", "--proof", ""],
      ["inclusion", "--leaf-hash", "00", "--index", "0", "--size", "1", "--root", "00"],
      ["consistency", "--size1", "1", "--size2", "2", "--root1", "00", "--root2", "00", "--proof", "00,xy"],
      ["checkpoint", "--checkpoint", file("checkpoint")],
      ["redaction", "--proof", file("doc.json")],
      ["proof", "stray", "--json"],
    ];
    const results = await pool(bad, 4, (args) => run(args));
    results.forEach((r, i) => {
      expect(r.code, JSON.stringify(bad[i])).toBe(2);
      expect(r.stderr, JSON.stringify(bad[i])).toMatch(/^custody-verify: .*\nusage: custody-verify <command>/);
      expect(r.stdout).toBe("");
    });
  });
});

interface InclusionProbe {
  file?: string;
  desc?: string;
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  root: string;
  proof: string[];
  want_err?: boolean;
}
interface ConsistencyProbe {
  file?: string;
  desc?: string;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
  want_err?: boolean;
}

describe("custody-verify inclusion and consistency on the transparency-dev/merkle vectors", () => {
  const vectors = JSON.parse(readFileSync(join(repo, "test/fixtures/vectors/merkle_vectors.json"), "utf8")) as {
    inclusion: InclusionProbe[];
    consistency: ConsistencyProbe[];
    probes: { inclusion: InclusionProbe[]; consistency: ConsistencyProbe[] };
  };
  /**
   * Upstream accepts this probe because Go returns early for size1 == size2 without looking at the
   * roots, which are 12-byte placeholders here; every hash in Custody is exactly 32 bytes (FORMAT
   * §1), so the verifier rejects it as an invalid proof: exit 1.
   */
  const TWELVE_BYTE_ROOTS = "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";
  /** `kind` is the probe's command and description; vector entries have none. */
  type Case = { label: string; kind?: string; want: 0 | 1; args: string[]; batch: Record<string, unknown>; commaSafe: boolean };
  const want = (p: { want_err?: boolean; file?: string }): 0 | 1 => (p.want_err === true || p.file === TWELVE_BYTE_ROOTS ? 1 : 0);
  const inclusion = (p: InclusionProbe, label: string): Case => ({
    label,
    want: want(p),
    args: ["inclusion", "--leaf-hash", p.leaf_hash, "--index", BigInt(p.leaf_index).toString(), "--size", String(p.tree_size), "--root", p.root, `--proof=${p.proof.join(",")}`],
    batch: { command: "inclusion", leafHash: p.leaf_hash, index: p.leaf_index, size: p.tree_size, root: p.root, proof: p.proof },
    // --proof "" is the empty proof, so a proof of one empty hash has no comma-separated spelling.
    commaSafe: !(p.proof.length === 1 && p.proof[0] === ""),
  });
  const consistency = (p: ConsistencyProbe, label: string): Case => ({
    label,
    want: want(p),
    args: ["consistency", "--size1", String(p.size1), "--size2", String(p.size2), "--root1", p.root1, "--root2", p.root2, `--proof=${p.proof.join(",")}`],
    batch: { command: "consistency", size1: p.size1, size2: p.size2, root1: p.root1, root2: p.root2, proof: p.proof },
    commaSafe: !(p.proof.length === 1 && p.proof[0] === ""),
  });
  const cases: Case[] = [
    ...vectors.inclusion.map((p, i) => inclusion(p, `inclusion[${i}]`)),
    ...vectors.consistency.map((p, i) => consistency(p, `consistency[${i}]`)),
    ...vectors.probes.inclusion.map((p) => ({ ...inclusion(p, p.file ?? "?"), kind: `inclusion ${p.desc}` })),
    ...vectors.probes.consistency.map((p) => ({ ...consistency(p, p.file ?? "?"), kind: `consistency ${p.desc}` })),
  ];

  it("has every entry and probe (5 + 5 vectors, 98 + 98 probes)", () => {
    expect(vectors.inclusion).toHaveLength(5);
    expect(vectors.consistency).toHaveLength(5);
    expect(vectors.probes.inclusion).toHaveLength(98);
    expect(vectors.probes.consistency).toHaveLength(98);
    expect(cases.filter((c) => c.want === 1).length).toBeGreaterThan(150);
    // Exactly the two "garbage" probes whose whole proof is one empty hash need --batch.
    expect(cases.filter((c) => !c.commaSafe)).toHaveLength(2);
  });

  it("agrees with every vector entry and one probe of every kind through the flags, one process each", async () => {
    // A process costs ~0.15 s of CPU (mostly loading the bundle), so the flags see every vector
    // entry and the first probe of each (command, description) pair (58 kinds); --batch below runs
    // all 206 through the same verification code in one process.
    const seen = new Set<string>();
    const flagged = cases.filter((c) => {
      if (!c.commaSafe) return false;
      if (c.kind === undefined) return true;
      if (seen.has(c.kind)) return false;
      seen.add(c.kind);
      return true;
    });
    expect(flagged.length).toBeGreaterThan(60);
    const results = await pool(flagged, 4, (c) => run(c.args));
    const wrong = results.flatMap((r, i) => {
      const c = flagged[i]!;
      const line = LINE.exec(r.stdout.trimEnd());
      const ok = r.code === c.want && line !== null && line[1] === (c.want === 0 ? "✓" : "✗") && line[2] === c.args[0];
      return ok ? [] : [`${c.label}: want exit ${c.want}, got ${r.code}: ${r.stdout}${r.stderr}`];
    });
    expect(wrong).toEqual([]);
  }, 180_000);

  it("agrees with every entry and probe through --batch, in one process", async () => {
    writeFileSync(file("batch.json"), JSON.stringify(cases.map((c) => c.batch)));
    const r = await run(["--batch", file("batch.json")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { ok: boolean; checks: Array<{ detail: string }> });
    expect(out).toHaveLength(cases.length);
    const wrong = out.flatMap((o, i) => (o.ok === (cases[i]!.want === 0) ? [] : [`${cases[i]!.label}: ${JSON.stringify(o)}`]));
    expect(wrong).toEqual([]);
    const twelve = out[cases.findIndex((c) => c.label === TWELVE_BYTE_ROOTS)]!;
    expect(twelve.checks[0]!.detail).toMatch(/32-byte/);
  });
});
