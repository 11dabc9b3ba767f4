import { randomBytes, randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrate, sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { buildDeliveryHeaders, generateSecret, secretKeyId, unpackSignatures } from "@custody/signing";

const COMPACT = "0009_compact_attempt_seals.sql";

/** Seals as format 2 stored them before migration 0009: the header texts and a key id array. */
describe("migration 0009: attempt seals compact", () => {
  let t: TestDatabase;
  const secrets = [generateSecret(), generateSecret()].map((secret) => ({ secret, keyId: secretKeyId(secret) }));
  const sealed = [1, 2].map((n) => ({
    deliveryId: `dlv_${n}`,
    keyIds: secrets.slice(0, n).map((s) => s.keyId),
    headers: buildDeliveryHeaders({ msgId: `evt_${n}`, timestamp: 1_700_000_000 + n, body: randomBytes(40), eventType: "a.b", idempotencyKey: randomUUID(), secrets: secrets.slice(0, n) }),
  }));

  beforeAll(async () => {
    const before = await mkdtemp(join(tmpdir(), "custody-before-0009-"));
    for (const name of await readdir(MIGRATIONS_DIR)) if (name < COMPACT) await copyFile(join(MIGRATIONS_DIR, name), join(before, name));
    t = await createTestDatabase("compact_seals", before);
    for (const s of sealed) {
      await sql`
        INSERT INTO attempt_seals (delivery_id, attempt_no, batch_id, batch_index, hops, sealed_at, previous, webhook_signature, custody_signature, key_ids, target_url)
        VALUES (${s.deliveryId}, 1, 1, 0, ${randomBytes(128)}, 1700000000, NULL, ${s.headers["webhook-signature"]}, ${s.headers["x-custody-signature"]},
                ${s.keyIds}::text[], 'https://example.com/hook')`.execute(t.db);
    }
    await migrate(t.url);
  });
  afterAll(async () => {
    await t.drop();
  });

  it("keeps every signature and key id, rebuilt to the same header text", async () => {
    const rows = await t.db.selectFrom("attempt_seals").select(["delivery_id", "signatures", "key_ids"]).orderBy("delivery_id").execute();
    expect(rows.map((r) => ({ deliveryId: r.delivery_id, keyIds: r.key_ids.split(" "), headers: unpackSignatures(r.signatures) }))).toEqual(
      sealed.map((s) => ({ deliveryId: s.deliveryId, keyIds: s.keyIds, headers: { "webhook-signature": s.headers["webhook-signature"], "x-custody-signature": s.headers["x-custody-signature"] } })),
    );
    expect(rows.map((r) => r.signatures.length)).toEqual([64, 96]);
  });

  it("refuses signatures that do not match the number of key ids, and still refuses rewrites", async () => {
    const insert = (signatures: Buffer, keyIds: string) =>
      sql`
      INSERT INTO attempt_seals (delivery_id, attempt_no, batch_id, batch_index, hops, sealed_at, signatures, key_ids, target_url)
      VALUES ('dlv_3', 1, 1, 0, ${randomBytes(128)}, 1700000000, ${signatures}, ${keyIds}, 'https://example.com/hook')`.execute(t.db);
    await expect(insert(randomBytes(64), `${secrets[0]!.keyId} ${secrets[1]!.keyId}`)).rejects.toThrow(/attempt_seals_signatures/);
    await expect(insert(randomBytes(96), secrets[0]!.keyId)).rejects.toThrow(/attempt_seals_signatures/);
    await expect(sql`UPDATE attempt_seals SET key_ids = 'x' WHERE delivery_id = 'dlv_1'`.execute(t.db)).rejects.toThrow();
  });

  it("shows the key ids as an array in the attempt history", async () => {
    await sql`
      INSERT INTO attempt_outcomes (delivery_id, attempt_no, tenant_id, batch_id, batch_index, started_at, duration_ms, outcome)
      VALUES ('dlv_2', 1, 'ten_1', 1, 0, now(), 5, 'delivered')`.execute(t.db);
    const history = await t.db.selectFrom("attempt_history").select(["delivery_id", "key_ids"]).execute();
    expect(history).toEqual([{ delivery_id: "dlv_2", key_ids: sealed[1]!.keyIds }]);
  });
});
