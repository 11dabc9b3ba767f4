import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrate, readMigrations } from "./migrate.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

describe("migrate", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("migrate");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("applies every migration once and records its checksum", async () => {
    const files = await readMigrations();
    const rows = await t.db.selectFrom("schema_migrations").select(["name", "checksum"]).orderBy("name").execute();
    expect(rows).toEqual(files.map((f) => ({ name: f.name, checksum: f.checksum })));
    const again = await migrate(t.url);
    expect(again.applied).toEqual([]);
  });

  it("refuses to run when an applied migration was edited", async () => {
    const dir = await mkdtemp(join(tmpdir(), "custody-migrations-"));
    for (const name of await readdir(MIGRATIONS_DIR)) {
      await writeFile(join(dir, name), await readFile(join(MIGRATIONS_DIR, name), "utf8"));
    }
    await writeFile(join(dir, "0001_foundation.sql"), (await readFile(join(dir, "0001_foundation.sql"), "utf8")) + "\n-- edited\n");
    await expect(migrate(t.url, dir)).rejects.toMatchObject({
      code: "MIGRATION_CHECKSUM_MISMATCH",
      message: expect.stringMatching(/0001_foundation\.sql was edited after it was applied/),
    });
  });

  it("rejects misnumbered files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "custody-migrations-"));
    await writeFile(join(dir, "0002_late.sql"), "SELECT 1;");
    await expect(readMigrations(dir)).rejects.toMatchObject({ code: "MIGRATION_FAILED" });
  });
});
