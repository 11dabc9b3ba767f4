import { describe, expect, it } from "vitest";
import { generateSigner, verifierKeyOf } from "@custody/note";
import { allOk, verifyProof, verifyRedaction, type Check } from "./checks.js";
import { buildFixtureV2, DATA, ORIGIN, signer } from "./document-v2.fixture.js";
import { formatCheck } from "./format.js";

/*
 * Format 2 documents (FORMAT §13) built with the platform's own libraries: every kind of delivery
 * verifies, with every check of §14 in its order.
 */
const V2_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "custody record", "seal", "chain", "outcome", "hmac", "receipt"];

const f = buildFixtureV2();
type Json = Record<string, any>;
const clone = (doc: Record<string, unknown>): Json => structuredClone(doc) as Json;
const names = (checks: readonly Check[]) => checks.map((c) => c.name);
const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);
const detail = (checks: readonly Check[], name: string) => checks.find((c) => c.name === name)!.detail;

describe("verifyProof on format 2 documents", () => {
  it("accepts the thin delivery retried twice, with every check in FORMAT §14 order", () => {
    const checks = verifyProof({ document: f.document, payload: f.thin.body, key: f.keys, secret: f.thin.secret, receiptKey: f.thin.receiptKey });
    expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    expect(names(checks)).toEqual(V2_ORDER);
    // dlv_cb sent the same bytes (thin, and salts are not in the body).
    expect(detail(checks, "prepared")).toContain("4 attempts (dlv_thin#1, dlv_thin#2, dlv_thin#3, dlv_cb#1)");
    expect(detail(checks, "chain")).toMatch(
      /^dlv_thin: 3 attempts chained: retry → retry → delivered \(complete\); dlv_fat: 1 attempt chained: delivered \(complete\); dlv_cb: 1 attempt chained: delivered \(complete\); and 2 more$/,
    );
    expect(detail(checks, "outcome")).toMatch(/dlv_thin#3: delivered \(HTTP 200\), index 1 of an outcomes batch of 2, outcomes entry leaf \d+ of 16; delivered hop [0-9a-f]{64}/);
    expect(detail(checks, "outcome")).toMatch(/dlv_thin#2: retry \(timeout\)/);
    expect(detail(checks, "seal")).toMatch(/dlv_thin#3: index 0 of a batch of 1/);
    expect(detail(checks, "event")).toMatch(/RECALLED \("sent to the wrong customer"\), recall entry leaf 14 of 16/);
    expect(detail(checks, "receipt")).toMatch(/^dlv_thin: received 2026-03-01T12:05:00.500\+01:00, signed by the receipt key, leaf \d+ of 16$/);
  });

  it("accepts the fat delivery and its replay, whose last attempt is still in flight", () => {
    const checks = verifyProof({ document: f.document, payload: f.fat.body, key: f.keys, secret: f.fat.secret });
    expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    expect(names(checks)).toEqual(V2_ORDER.slice(0, -1));
    expect(detail(checks, "prepared")).toContain("3 attempts (dlv_fat#1, dlv_replay#1, dlv_replay#2)");
    // Only the two deliveries to wh_fat, and the cancelled one: a document may show any deliveries.
    const doc = clone(f.document);
    doc.deliveries = doc.deliveries.slice(1).filter((d: Json) => d.id !== "dlv_cb");
    const fat = verifyProof({ document: doc, payload: f.fat.body, key: f.keys });
    expect(allOk(fat)).toBe(true);
    expect(detail(fat, "chain")).toBe("dlv_fat: 1 attempt chained: delivered (complete); dlv_cancelled: no attempt sealed yet; dlv_replay: 2 attempts chained: retry → in flight (may continue)");
    expect(detail(fat, "outcome")).toMatch(/dlv_replay#1: retry \(HTTP 503\), .*; dlv_replay#2: no outcome recorded yet \(in flight\)$/);
    expect(detail(checks, "hmac")).toMatch(/^dlv_fat#1: webhook-signature and x-custody-signature verify; dlv_replay#1: /);
    const replay = (f.document as Json).deliveries[4];
    expect(replay).toMatchObject({ id: "dlv_replay", replayOf: "dlv_fat", replay: "rpl_fixture1", status: "delivering" });
    expect(replay.idempotencyKey).not.toBe((f.document as Json).deliveries[1].idempotencyKey);
  });

  it("accepts the callback delivery with its own secret, and names it in hmac", () => {
    const checks = verifyProof({ document: f.document, payload: f.callback.body, key: f.keys, secret: f.callback.secret });
    expect(allOk(checks)).toBe(true);
    expect(detail(checks, "hmac")).toMatch(/^dlv_cb#1: /);
    expect(detail(checks, "custody record")).not.toContain("undefined");
  });

  it("checks the HMACs with the endpoint's secret, including the previous one during a rotation", () => {
    const hmac = (payload: Uint8Array, secret: string) => verifyProof({ document: f.document, payload, key: f.keys, secret }).at(-1)!;
    expect(hmac(f.thin.body, f.fat.secret)).toMatchObject({ name: "hmac", ok: false });
    const previous = hmac(f.thin.body, f.thin.previousSecret);
    expect(previous.ok).toBe(true);
    expect(previous.detail).toMatch(/^dlv_thin#1: webhook-signature verifies; x-custody-signature was made with whk_[0-9a-f]{16}, not this secret/);
  });

  it("checks the receipt with the key given, for a delivery that sent the payload", () => {
    const receipt = (payload: Uint8Array, receiptKey: Uint8Array) => verifyProof({ document: f.document, payload, key: f.keys, receiptKey }).at(-1)!;
    expect(receipt(f.thin.body, f.thin.receiptKey).ok).toBe(true);
    expect(receipt(f.fat.body, f.thin.receiptKey).detail).toMatch(/no receipt entry/);
    expect(receipt(f.thin.body, verifierKeyOf(generateSigner(ORIGIN)).publicKey).detail).toMatch(/not the receipt key given/);
  });

  it("stops after prepared when the payload matches no attempt", () => {
    const checks = verifyProof({ document: f.document, payload: new TextEncoder().encode("{}"), key: f.keys });
    expect(names(checks)).toEqual(["checkpoint", "event", "prepared"]);
    expect(failing(checks)).toEqual(["prepared"]);
  });

  it("reports a format 2 document that does not parse as one failed document check", () => {
    const bad = (edit: (d: Json) => void) => {
      const doc = clone(f.document);
      edit(doc);
      return verifyProof({ document: doc, payload: f.thin.body, key: f.keys });
    };
    const cases: Array<[string, (d: Json) => void, RegExp]> = [
      ["a format 1 attempt", (d) => (d.deliveries[0].attempts[0] = { attempt: 1, hops: {}, root: "" }), /custody-chain\/v2 document: deliveries\.0\.attempts\.0\.record/],
      ["no replay member", (d) => delete d.deliveries[0].replay, /deliveries\.0\.replay/],
      ["an unknown status", (d) => (d.deliveries[0].status = "lost"), /deliveries\.0\.status/],
      ["a seal without its entry", (d) => delete d.deliveries[0].attempts[0].seal.entry, /seal\.entry/],
      ["an attempt listed twice", (d) => (d.deliveries[0].attempts[1].attempt = 1), /lists attempt 1 twice/],
      ["a delivery listed twice", (d) => (d.deliveries[1].id = "dlv_thin"), /appears twice/],
      ["a path of 13 hashes", (d) => (d.deliveries[0].attempts[0].seal.path = Array(13).fill("0".repeat(64))), /seal\.path/],
      ["another format", (d) => (d.format = "custody-chain/v3"), /format is "custody-chain\/v3"; this verifier reads custody-chain\/v1 and custody-chain\/v2/],
    ];
    for (const [what, edit, why] of cases) {
      const checks = bad(edit);
      expect(checks, what).toHaveLength(1);
      expect(checks[0]!.name, what).toBe("document");
      expect(checks[0]!.detail, what).toMatch(why);
    }
  });

  it("rejects entries appended after the checkpoint until the document is fetched again", () => {
    // Index 12 is seal batch D's entry (dlv_replay#2); the recall (14) follows it.
    const late = buildFixtureV2({ checkpointSize: 12 });
    const checks = verifyProof({ document: late.document, payload: late.fat.body, key: late.keys });
    expect(failing(checks)).toEqual(["event", "seal"]);
    expect(detail(checks, "event")).toMatch(/recall entry: not yet covered by the checkpoint \(leafIndex is null\); fetch the document again/);
    expect(detail(checks, "seal")).toMatch(/^dlv_replay#2: seal entry: not yet covered by the checkpoint/);
  });
});

describe("format 2 and key rotation", () => {
  const newSigner = generateSigner(ORIGIN);
  const oldKey = verifierKeyOf(signer);
  const newKey = verifierKeyOf(newSigner);
  const mixed = buildFixtureV2({ checkpointSigner: newSigner, sealSigner: (batch) => (batch === "C" || batch === "D" ? newSigner : signer) });
  const run = (key: typeof oldKey | Array<typeof oldKey>) => verifyProof({ document: mixed.document, payload: mixed.thin.body, key });

  it("needs every key the document's notes were signed with", () => {
    expect(allOk(run([oldKey, newKey]))).toBe(true);
    expect(failing(run([newKey]))).toEqual(["seal"]);
    expect(detail(run([newKey]), "seal")).toMatch(/^dlv_thin#1: seal note: /);
    expect(failing(run([oldKey]))[0]).toBe("checkpoint");
    // The seal entry names the key that signed its note.
    expect(detail(run([oldKey, newKey]), "seal")).toContain(`dlv_thin#3: index 0 of a batch of 1, signed by key ${Buffer.from(newSigner.keyId).toString("hex")}`);
  });
});

describe("verifyRedaction on format 2 documents", () => {
  it("opens every commitment and matches the redacted hop in every attempt's custody record", () => {
    const checks = verifyRedaction({ document: f.document, original: { data: DATA } });
    expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    expect(names(checks)).toEqual(["event", "original", "redaction", "redaction", "redaction", "redaction", "redaction"]);
    expect(checks.map((c) => c.detail).filter((d) => d.startsWith("dlv_thin "))).toEqual(["dlv_thin (thin): removed /email, /name, /tags/1, each commitment opens; redacted hop of 3 attempt(s) matches"]);
    const withKey = verifyRedaction({ document: f.document, original: DATA, key: f.keys });
    expect(names(withKey)).toEqual(["checkpoint", "event", "original", "root", "custody record", "seal", "redaction", "redaction", "redaction", "redaction", "redaction"]);
    expect(allOk(withKey)).toBe(true);
  });

  it("rejects an original the event did not commit to, and forged removals", () => {
    expect(failing(verifyRedaction({ document: f.document, original: { data: { ...DATA, plan: "free" } } }))).toEqual(["original"]);
    const doc = clone(f.document);
    doc.deliveries[1].redaction.removed[0].salt = "AAAAAAAAAAAAAAAAAAAAAA";
    const checks = verifyRedaction({ document: doc, original: { data: DATA } });
    expect(failing(checks)).toEqual(["redaction"]);
    expect(checks.find((c) => !c.ok)!.detail).toMatch(/^dlv_fat: removed field "\/tags\/1"/);
  });

  it("compares the redacted hop of a record that was sealed with another one", () => {
    // A forger with the platform key seals dlv_thin#2 with a redacted hop of other bytes.
    const forged = buildFixtureV2({ attempt: (label, a) => (label === "dlv_thin#2" ? { ...a, redacted: new Uint8Array(32).fill(7) } : a) });
    expect(allOk(verifyProof({ document: forged.document, payload: forged.thin.body, key: forged.keys }))).toBe(true);
    const checks = verifyRedaction({ document: forged.document, original: { data: DATA }, key: forged.keys });
    expect(failing(checks)).toEqual(["redaction"]);
    expect(checks.find((c) => !c.ok)!.detail).toMatch(/^dlv_thin#2: redacted hop 0707/);
  });

  it("fails a record whose redacted hop cannot be read", () => {
    const doc = clone(f.document);
    doc.deliveries[2].attempts[0].record = Buffer.from("not json").toString("base64");
    const checks = verifyRedaction({ document: doc, original: { data: DATA } });
    expect(failing(checks)).toEqual(["redaction"]);
    expect(checks.find((c) => !c.ok)!.detail).toMatch(/^dlv_cb#1: custody record is not UTF-8 JSON/);
  });
});
