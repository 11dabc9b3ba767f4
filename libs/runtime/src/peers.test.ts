import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { createLogger } from "@custody/log";
import { LivePeers } from "./peers.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

/** Polls rather than sleeping a fixed time: beats run late on a busy machine. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("LivePeers", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("peers");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("counts the live processes of its kind, and forgets one that stopped or went silent", async () => {
    const options = { db: t.db, heartbeatMs: 100, ttlMs: 400, logger };
    const a = new LivePeers({ ...options, kind: "api" });
    const b = new LivePeers({ ...options, kind: "api" });
    const other = new LivePeers({ ...options, kind: "deliver" });
    await Promise.all([a.start(), b.start(), other.start()]);
    await until(() => a.count === 2 && b.count === 2, "each to see the other");
    expect(other.count).toBe(1);

    // A graceful stop removes the row: the share comes back at the next beat.
    await b.stop();
    await until(() => a.count === 1, "the stopped peer to go");

    // A process that dies without a word counts until its last beat is older than the TTL.
    const lastBeat = Date.now();
    await sql`INSERT INTO process_heartbeats (kind, process_id) VALUES ('api', 'killed')`.execute(t.db);
    await until(() => a.count === 2, "the silent peer to be counted");
    await until(() => a.count === 1, "the silent peer to go");
    // The TTL (400 ms), less a little for the statement's own time.
    expect(Date.now() - lastBeat).toBeGreaterThanOrEqual(350);
    await Promise.all([a.stop(), other.stop()]);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM process_heartbeats WHERE process_id <> 'killed'`.execute(t.db);
    expect(rows[0]!.n).toBe(0);
  });
});
