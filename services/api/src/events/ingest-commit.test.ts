import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { openDependencies } from "@custody/runtime";
import { createTenant } from "@custody/tenancy";
import type { CommittedEvent } from "./announce.js";
import { acceptedEvent } from "./accepted.fixture.js";
import { IngestCommitter } from "./ingest-commit.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

let t: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  t = await createTestDatabase("ingest_commit");
  tenantId = (await createTenant(t.db, "Acme")).tenantId;
});

afterAll(() => t?.drop());

describe("the ingest group committer", () => {
  it("writes once at a time: requests that arrive during a write commit together in the next one", async () => {
    const commits: string[][] = [];
    const committer = new IngestCommitter(t.db, randomBytes(32), logger, (events: readonly CommittedEvent[]) => commits.push(events.map((e) => e.stored.id)));
    const ids = Array.from({ length: 10 }, (_, i) => `evt_group_${i}`);
    const answers = await Promise.all(ids.map((id) => committer.commit(tenantId, [acceptedEvent(id)])));

    // The first request found no write under way; the nine behind it waited for that one, not for each other.
    expect(commits).toEqual([ids.slice(0, 1), ids.slice(1)]);
    // Every request is answered with its own event, stored under its ledger entry.
    expect(answers.map((rows) => rows.map((r) => r.id))).toEqual(ids.map((id) => [id]));
    const stored = await sql<{ id: string; entry_id: string }>`SELECT id, entry_id FROM events WHERE tenant_id = ${tenantId} ORDER BY id`.execute(t.db);
    expect(stored.rows.map((r) => r.id)).toEqual([...ids].sort());
    expect(new Set(stored.rows.map((r) => r.entry_id))).toEqual(new Set(answers.flat().map((r) => r.entryId)));
  });

  it("through the API's writer connection (on by default), parses and plans the group's statement once", async () => {
    const config = loadConfig("api", { DATABASE_URL: t.url, CUSTODY_LOG_LEVEL: "silent" });
    const deps = await openDependencies("api", config, { nats: false, writer: config.CUSTODY_API_PREPARED_INGEST });
    try {
      const writer = deps.writerDb!;
      const committer = new IngestCommitter(writer, randomBytes(32), logger, () => undefined);
      // Groups of different sizes: the statement's text does not depend on how many events it carries.
      for (const [n, size] of [1, 3, 2].entries()) {
        await Promise.all(Array.from({ length: size }, (_, i) => committer.commit(tenantId, [acceptedEvent(`evt_writer_${n}_${i}`)])));
      }
      const { rows } = await sql<{ app: string; generic: string; custom: string }>`
        SELECT current_setting('application_name') AS app, generic_plans::text AS generic, custom_plans::text AS custom
        FROM pg_prepared_statements WHERE statement LIKE 'WITH "event_entries"%'`.execute(writer);
      // One statement for every group: three rounds, each of one or more groups.
      expect(rows).toHaveLength(1);
      expect(rows[0]!.app).toBe("custody-api-writer");
      expect(Number(rows[0]!.generic)).toBeGreaterThanOrEqual(3);
      expect(rows[0]!.custom).toBe("0");
    } finally {
      await deps.close();
    }
  });
});
