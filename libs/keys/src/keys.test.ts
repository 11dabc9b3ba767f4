import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { parseVerifierKey, signNote, verifyNote } from "@custody/note";
import { activePlatformSigner, decryptSecret, encryptSecret, listPlatformKeys, rotatePlatformKey } from "./index.js";

const master = randomBytes(32);

describe("encryptSecret", () => {
  it("round-trips, and fails on another key, another purpose or any flipped byte", () => {
    const sealed = encryptSecret(master, Buffer.from("seed"), "platform-key:1");
    expect(decryptSecret(master, sealed, "platform-key:1").toString()).toBe("seed");
    expect(() => decryptSecret(randomBytes(32), sealed, "platform-key:1")).toThrow(/wrong CUSTODY_MASTER_KEY/);
    expect(() => decryptSecret(master, sealed, "platform-key:2")).toThrow(/KEY_DECRYPTION_FAILED|cannot decrypt/);
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 1;
      expect(() => decryptSecret(master, bad, "platform-key:1")).toThrow();
    }
  });
});

describe("platform keys", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("keys");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("creates one active key even when many processes ask at once, and stores it encrypted", async () => {
    const signers = await Promise.all(Array.from({ length: 6 }, () => activePlatformSigner(t.db, master, "custody.test/log")));
    expect(new Set(signers.map((s) => Buffer.from(s.keyId).toString("hex"))).size).toBe(1);
    const row = await t.db.selectFrom("platform_keys").selectAll().executeTakeFirstOrThrow();
    expect(row.private_key_enc.includes(Buffer.from(signers[0]!.seed))).toBe(false);
  });

  it("rotates, keeps old public keys published, and old notes still verify", async () => {
    const before = await activePlatformSigner(t.db, master, "custody.test/log");
    const note = signNote("custody.test/log\n1\n" + Buffer.alloc(32).toString("base64") + "\n", [before]);
    const after = await rotatePlatformKey(t.db, master, "custody.test/log");
    expect(after.keyId).not.toEqual(before.keyId);
    const keys = await listPlatformKeys(t.db);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.validTo).toBeInstanceOf(Date);
    expect(keys[1]!.validTo).toBeNull();
    expect(
      verifyNote(
        note,
        keys.map((k) => parseVerifierKey(k.vkey)),
      ).verified,
    ).toHaveLength(1);
  });

  it("makes a new key when the origin changes", async () => {
    const other = await activePlatformSigner(t.db, master, "custody.other/log");
    expect(other.name).toBe("custody.other/log");
    const active = await sql<{ n: string }>`SELECT count(*) AS n FROM platform_keys WHERE retired_at IS NULL`.execute(t.db);
    expect(active.rows[0]!.n).toBe("1");
  });

  it("refuses to start with the wrong master key", async () => {
    await expect(activePlatformSigner(t.db, randomBytes(32), "custody.other/log")).rejects.toMatchObject({ code: "KEY_DECRYPTION_FAILED" });
  });
});
