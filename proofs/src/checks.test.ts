import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import * as ed from "@noble/ed25519";
import { toHex, encodeBase64 } from "@custody/encoding";
import { formatVerifierKey, generateSigner, verifierKeyOf } from "@custody/note";
import { generateSecret } from "@custody/signing";
import { allOk, verifyCheckpoint, verifyProof, verifyRedaction, type Check } from "./checks.js";
import { buildFixture, DATA, ORIGIN, signer } from "./document.fixture.js";
import { formatCheck } from "./format.js";
import { parseKeys } from "./keys.js";

const PROOF_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "seal", "custody entry", "outcome", "hmac", "receipt"];

const base = buildFixture();
const twin = buildFixture({ callbackTwin: true });

type Json = Record<string, any>;
const clone = (doc: Record<string, unknown>): Json => structuredClone(doc) as Json;
const names = (checks: readonly Check[]) => checks.map((c) => c.name);
const firstFailure = (checks: readonly Check[]) => checks.find((c) => !c.ok);
const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);

describe("verifyProof on real documents", () => {
  it("accepts a thin delivery with every check, in FORMAT §12 order", () => {
    const checks = verifyProof({ document: base.document, payload: base.thin.body, key: base.keys, secret: base.thin.secret, receiptKey: base.thin.receiptKey });
    expect(names(checks)).toEqual(PROOF_ORDER);
    expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    expect(allOk(checks)).toBe(true);
    expect(checks.find((c) => c.name === "prepared")!.detail).toContain("dlv_thin#1, dlv_thin#2");
    expect(checks.find((c) => c.name === "outcome")!.detail).toMatch(/dlv_thin#2: delivered \(HTTP 200\).*delivered hop [0-9a-f]{64}/);
  });

  it("omits hmac and receipt without a secret or receipt key", () => {
    const checks = verifyProof({ document: base.document, payload: base.fat.body, key: base.keys[0]! });
    expect(names(checks)).toEqual(PROOF_ORDER.slice(0, 9));
    expect(allOk(checks)).toBe(true);
  });

  it("reports a recall, and rejects a recall entry of another event or one outside the checkpoint", () => {
    const recalled = buildFixture({ recalled: true });
    const event = verifyProof({ document: recalled.document, payload: recalled.fat.body, key: recalled.keys }).find((c) => c.name === "event")!;
    expect(event).toMatchObject({ ok: true });
    expect(event.detail).toMatch(/RECALLED \("sent to the wrong customer"\), recall entry leaf \d+ of/);
    const forged = clone(recalled.document);
    const bytes = Buffer.from(forged.recall.entry, "base64").toString().replace("evt_", "evt_X");
    forged.recall.entry = Buffer.from(bytes).toString("base64");
    expect(verifyProof({ document: forged, payload: recalled.fat.body, key: recalled.keys }).find((c) => c.name === "event")).toMatchObject({ ok: false });
    const late = buildFixture({ recalled: true, checkpointSize: 3 });
    expect(verifyProof({ document: late.document, payload: late.fat.body, key: late.keys })[1]!.detail).toMatch(/recall entry: not yet covered|event entry: not yet covered/);
  });

  it("checks the HMACs with the endpoint's secret", () => {
    const run = (payload: Uint8Array, secret: string) => verifyProof({ document: base.document, payload, key: base.keys, secret }).at(-1)!;
    expect(run(base.fat.body, base.fat.secret)).toMatchObject({ name: "hmac", ok: true });
    expect(run(base.thin.body, base.fat.secret)).toMatchObject({ name: "hmac", ok: false });
    expect(run(base.thin.body, generateSecret()).detail).toMatch(/no v1 signature/);
    // During the rotation overlap attempt 1 carries a v1 signature by the previous secret too;
    // x-custody-signature is made with the current secret only (FORMAT §6), so with the previous
    // secret the check rests on webhook-signature and says that x-custody-signature was not checked.
    const previous = run(base.thin.body, base.thin.previousSecret);
    expect(previous.ok).toBe(true);
    expect(previous.detail).toMatch(/x-custody-signature was made with whk_[0-9a-f]{16}, not this secret/);
  });

  it("checks the counter-signed receipt with the receipt key given, not the one in the entry", () => {
    const run = (payload: Uint8Array, receiptKey: Uint8Array, document: unknown = base.document) => verifyProof({ document, payload, key: base.keys, receiptKey }).at(-1)!;
    expect(run(base.thin.body, base.thin.receiptKey)).toMatchObject({ name: "receipt", ok: true });
    const other = ed.getPublicKey(ed.utils.randomSecretKey());
    expect(run(base.thin.body, other).detail).toMatch(/not the receipt key given/);
    expect(run(base.fat.body, base.thin.receiptKey).detail).toMatch(/no receipt entry/);
    expect(run(base.thin.body, new Uint8Array(32)).detail).toMatch(/small-order|canonical/);
    const noReceipt = clone(base.document);
    noReceipt.deliveries[0].receipt = null;
    expect(run(base.thin.body, base.thin.receiptKey, noReceipt)).toMatchObject({ ok: false });
  });

  it("rejects a receipt whose statement names another body, even if the endpoint signed it", () => {
    // A receipt entry the platform logged for a statement about different bytes.
    const seed = ed.utils.randomSecretKey();
    const key = ed.getPublicKey(seed);
    const statement = new TextEncoder().encode(`{"bodySha256":"${toHex(sha256(new Uint8Array([1])))}","delivery":"dlv_thin","event":"evt_fixture1","kind":"custody-receipt","receivedAt":"2025-03-01T12:00:00Z","v":1}`);
    const entry = {
      v: 1,
      kind: "receipt",
      tenant: "ten_fixture",
      delivery: "dlv_thin",
      event: "evt_fixture1",
      statement: encodeBase64(statement),
      signature: encodeBase64(ed.sign(statement, seed)),
      publicKey: toHex(key),
    };
    const doc = clone(base.document);
    doc.deliveries[0].receipt = { entry: encodeBase64(new TextEncoder().encode(JSON.stringify(entry))), leafIndex: null, inclusion: [] };
    const check = verifyProof({ document: doc, payload: base.thin.body, key: base.keys, receiptKey: key }).at(-1)!;
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/canonical|bodySha256/);
  });

  it("verifies a payload that two deliveries sent byte for byte (thin endpoint and thin callback)", () => {
    expect(twin.callback!.body).toEqual(twin.thin.body);
    const checks = verifyProof({ document: twin.document, payload: twin.thin.body, key: twin.keys, secret: twin.callback!.secret, receiptKey: twin.thin.receiptKey });
    expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    expect(checks.find((c) => c.name === "prepared")!.detail).toContain("3 attempts (dlv_thin#1, dlv_thin#2, dlv_cb#1)");
    expect(checks.find((c) => c.name === "hmac")!.detail).toMatch(/^dlv_cb#1/);
  });

  it("fails prepared, and stops, when the payload matches no attempt", () => {
    const checks = verifyProof({ document: base.document, payload: new TextEncoder().encode("{}"), key: base.keys });
    expect(names(checks)).toEqual(["checkpoint", "event", "prepared"]);
    expect(failing(checks)).toEqual(["prepared"]);
  });

  it("reports a document that does not parse as one failed document check", () => {
    for (const bad of [null, 42, "x", [], {}, { ...base.document, format: "custody-chain/v2" }, { ...base.document, deliveries: "none" }]) {
      const checks = verifyProof({ document: bad, payload: base.thin.body, key: base.keys });
      expect(checks).toHaveLength(1);
      expect(checks[0]).toMatchObject({ name: "document", ok: false });
    }
    const dupAttempt = clone(base.document);
    dupAttempt.deliveries[0].attempts[1].attempt = 1;
    expect(verifyProof({ document: dupAttempt, payload: base.thin.body, key: base.keys })[0]!.detail).toMatch(/attempt 1 twice/);
    const dupDelivery = clone(base.document);
    dupDelivery.deliveries[1].id = "dlv_thin";
    expect(verifyProof({ document: dupDelivery, payload: base.thin.body, key: base.keys })[0]!.detail).toMatch(/appears twice/);
    const hugeHeader = clone(base.document);
    hugeHeader.deliveries[0].attempts[0].headers["x-pad"] = "a".repeat(20_000);
    expect(verifyProof({ document: hugeHeader, payload: base.thin.body, key: base.keys })[0]!.name).toBe("document");
  });

  it("requires a key named by the origin, and names the keys it was given", () => {
    const stranger = verifierKeyOf(generateSigner("other.example/log"));
    const checks = verifyProof({ document: base.document, payload: base.thin.body, key: [stranger] });
    expect(checks[0]).toMatchObject({ name: "checkpoint", ok: false });
    expect(checks[0]!.detail).toMatch(/no verifier key named custody\.test\/log was given \(given: other\.example\/log\)/);
    // Same name, another key (a key the platform never had): nothing verifies.
    const impostor = verifierKeyOf(generateSigner(ORIGIN));
    const again = verifyProof({ document: base.document, payload: base.thin.body, key: impostor });
    expect(failing(again)).toEqual(["checkpoint", "event", "seal", "custody entry", "outcome"]);
  });

  it("rejects entries appended after the checkpoint until the document is fetched again", () => {
    // Ledger index 10 is dlv_thin#2's custody entry; its outcome, the receipt and a filler follow.
    const late = buildFixture({ checkpointSize: 10 });
    const checks = verifyProof({ document: late.document, payload: late.thin.body, key: late.keys, receiptKey: late.thin.receiptKey });
    expect(failing(checks)).toEqual(["custody entry", "outcome", "receipt"]);
    expect(checks.find((c) => c.name === "custody entry")!.detail).toMatch(/^dlv_thin#2: custody entry: not yet covered by the checkpoint \(leafIndex is null\); fetch the document again/);
  });

  it("rejects a non-canonical event entry even though the ledger itself includes it", () => {
    const spaced = buildFixture({ eventEntryBytes: (b) => new TextEncoder().encode(new TextDecoder().decode(b).replace(',"type"', ', "type"')) });
    const checks = verifyProof({ document: spaced.document, payload: spaced.thin.body, key: spaced.keys });
    expect(firstFailure(checks)).toMatchObject({ name: "event" });
    expect(firstFailure(checks)!.detail).toMatch(/canonical/);
  });

  it("rejects header names that are not lowercase, and unsigned headers that contradict the document", () => {
    const upper = clone(base.document);
    const headers = upper.deliveries[0].attempts[0].headers;
    headers["Webhook-Id"] = headers["webhook-id"];
    delete headers["webhook-id"];
    expect(firstFailure(verifyProof({ document: upper, payload: base.thin.body, key: base.keys }))).toMatchObject({ name: "signed" });
    expect(firstFailure(verifyProof({ document: upper, payload: base.thin.body, key: base.keys }))!.detail).toMatch(/not a lowercase HTTP token/);
    for (const [name, value] of [
      ["x-custody-event", "case.completed"],
      ["idempotency-key", "00000000-0000-4000-8000-000000000000"],
      ["content-type", "text/plain"],
    ]) {
      const doc = clone(base.document);
      doc.deliveries[1].attempts[0].headers[name!] = value;
      const fail = firstFailure(verifyProof({ document: doc, payload: base.thin.body, key: base.keys }));
      expect(fail).toMatchObject({ name: "signed" });
      expect(fail!.detail).toContain(name);
    }
  });
});

describe("key rotation", () => {
  const oldSigner = signer;
  const newSigner = generateSigner(ORIGIN);
  const oldKey = verifierKeyOf(oldSigner);
  const newKey = verifierKeyOf(newSigner);

  it("verifies a document made before a rotation with the old key, alone or among others", () => {
    expect(allOk(verifyProof({ document: base.document, payload: base.thin.body, key: oldKey }))).toBe(true);
    expect(allOk(verifyProof({ document: base.document, payload: base.thin.body, key: [newKey, oldKey] }))).toBe(true);
    expect(failing(verifyProof({ document: base.document, payload: base.thin.body, key: newKey }))).toContain("checkpoint");
  });

  it("needs both keys when the seals predate the rotation and the checkpoint follows it", () => {
    const mixed = buildFixture({ checkpointSigner: newSigner, sealSigners: [oldSigner, newSigner] });
    const run = (key: typeof oldKey | Array<typeof oldKey>) => verifyProof({ document: mixed.document, payload: mixed.thin.body, key });
    expect(allOk(run([oldKey, newKey]))).toBe(true);
    expect(failing(run([newKey]))).toEqual(["seal"]);
    expect(failing(run([oldKey]))[0]).toBe("checkpoint");
    // The keys endpoint's JSON, as the CLI's --key @FILE reads it.
    const json = JSON.stringify({
      keys: [
        { keyId: "a", vkey: formatVerifierKey(newKey), validFrom: "", validTo: null },
        { keyId: "b", vkey: formatVerifierKey(oldKey), validFrom: "", validTo: "" },
      ],
    });
    expect(allOk(verifyProof({ document: mixed.document, payload: mixed.thin.body, key: parseKeys(json) }))).toBe(true);
    expect(allOk(verifyProof({ document: mixed.document, payload: mixed.thin.body, key: parseKeys(`# keys\n${formatVerifierKey(oldKey)}\n\n${formatVerifierKey(newKey)}\n`) }))).toBe(true);
  });
});

describe("verifyCheckpoint", () => {
  it("verifies every real checkpoint of the Tessera test log (C2SP interop) with its published key", () => {
    const text = readFileSync(fileURLToPath(new URL("../../test/fixtures/vectors/checkpoint_example.txt", import.meta.url)), "utf8");
    const key = parseKeys(/^vkey: (example\.com\/log\/testdata\+\S+)$/m.exec(text)![1]!);
    const notes = [...text.matchAll(/-----BEGIN CHECKPOINT size=(\d+) [^\n]*-----\n([\s\S]*?)-----END CHECKPOINT-----/g)];
    expect(notes).toHaveLength(16);
    for (const [, size, note] of notes) {
      const [check] = verifyCheckpoint(note!, key);
      expect(check).toMatchObject({ name: "checkpoint", ok: true });
      expect(check!.detail).toContain(`example.com/log/testdata, tree size ${size}, root `);
      expect(verifyCheckpoint(note!.replace(`\n${size}\n`, `\n${Number(size) + 1}\n`), key)[0]!.ok).toBe(false);
    }
  });

  it("verifies a checkpoint signed by the key named after its origin, and never a seal note", () => {
    const doc = base.document as Json;
    expect(verifyCheckpoint(doc.checkpoint, base.keys)[0]).toMatchObject({ name: "checkpoint", ok: true });
    const seal = verifyCheckpoint(doc.deliveries[0].attempts[0].seal.note, base.keys)[0]!;
    expect(seal.ok).toBe(false);
    expect(seal.detail).toMatch(/origin is "custody\.test\/log\/seal"/);
    expect(verifyCheckpoint(doc.checkpoint, verifierKeyOf(generateSigner(ORIGIN)))[0]!.ok).toBe(false);
    expect(verifyCheckpoint(`${doc.checkpoint}x`, base.keys)[0]!.ok).toBe(false);
  });
});

describe("verifyRedaction", () => {
  const redaction = (document: unknown, original: unknown, key?: typeof base.keys) => verifyRedaction({ document, original, ...(key ? { key } : {}) });

  it("opens every commitment and matches every attempt's redacted hop, from {data} or the bare data", () => {
    for (const original of [{ data: DATA }, DATA]) {
      const checks = redaction(base.document, original);
      expect(checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
      expect(names(checks)).toEqual(["event", "original", "redaction", "redaction"]);
    }
    const withKey = redaction(base.document, { data: DATA }, base.keys);
    expect(names(withKey)).toEqual(["checkpoint", "event", "original", "root", "seal", "custody entry", "redaction", "redaction"]);
    expect(allOk(withKey)).toBe(true);
  });

  it("lets the committed hash decide when the bare data has a member named data", () => {
    const data = { data: { inner: true }, email: "x@example.com", name: "X", tags: [1, 2, 3] };
    const f = buildFixture({ data });
    expect(allOk(redaction(f.document, data))).toBe(true);
    expect(allOk(redaction(f.document, { data }))).toBe(true);
  });

  it("rejects an original that is not the one the event committed to", () => {
    const checks = redaction(base.document, { data: { ...DATA, plan: "free" } });
    expect(names(checks)).toEqual(["event", "original"]);
    expect(failing(checks)).toEqual(["original"]);
  });

  it("rejects forged removal records and redacted hops", () => {
    const tamper = (edit: (doc: Json) => void) => {
      const doc = clone(base.document);
      edit(doc);
      return redaction(doc, { data: DATA });
    };
    const removed = (doc: Json) => doc.deliveries[0].redaction.removed as Array<{ path: string; salt: string; commitment: string }>;
    const cases: Array<[string, (doc: Json) => void]> = [
      ["commitment", (doc) => (removed(doc)[0]!.commitment = toHex(sha256(new Uint8Array([1]))))],
      ["salt", (doc) => (removed(doc)[1]!.salt = "AAAAAAAAAAAAAAAAAAAAAA")],
      ["path swapped", (doc) => (removed(doc)[0]!.path = "/plan")],
      ["field dropped", (doc) => removed(doc).pop()],
      ["field added", (doc) => removed(doc).push({ path: "/plan", salt: "AAAAAAAAAAAAAAAAAAAAAA", commitment: "0".repeat(64) })],
      ["absent path", (doc) => (removed(doc)[0]!.path = "/missing")],
      ["redacted hop", (doc) => (doc.deliveries[0].attempts[1].hops.redacted = "0".repeat(64))],
    ];
    for (const [what, edit] of cases) {
      const checks = tamper(edit);
      expect(failing(checks), what).toEqual(["redaction"]);
      expect(checks.find((c) => !c.ok)!.detail, what).toMatch(/^dlv_thin/);
    }
  });
});
