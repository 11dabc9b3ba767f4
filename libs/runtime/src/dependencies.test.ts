import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { openDependencies, type Dependencies } from "./dependencies.js";

/** Settles with what `check` did, or "pending" if it did neither within `ms`. */
async function within(check: Promise<void>, ms: number): Promise<"ok" | "pending" | Error> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<"pending">((resolve) => (timer = setTimeout(() => resolve("pending"), ms)));
  try {
    return await Promise.race([
      check.then(
        () => "ok" as const,
        (err: unknown) => err as Error,
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("readiness of Postgres", () => {
  let t: TestDatabase;
  const opened: Dependencies[] = [];
  const open = async (url: string) => {
    const deps = await openDependencies("test", loadConfig("api", { DATABASE_URL: url, CUSTODY_DB_POOL_MAX: "1", CUSTODY_LOG_LEVEL: "silent" }), { nats: false });
    opened.push(deps);
    return deps;
  };
  beforeAll(async () => {
    t = await createTestDatabase("ready");
  });
  afterAll(async () => {
    for (const deps of opened) await deps.close();
    await t?.drop();
  });

  it("is ready while every pooled connection is busy: the check has a connection of its own", async () => {
    const deps = await open(t.url);
    const busy = await deps.pool.connect();
    try {
      expect(await within(deps.readiness.postgres!(), 1_500)).toBe("ok");
      // Probes that overlap share one connection.
      const checks = await Promise.all([deps.readiness.postgres!(), deps.readiness.postgres!()]);
      expect(checks).toEqual([undefined, undefined]);
    } finally {
      busy.release();
    }
  });

  it("reports a server that does not answer as down, with why", async () => {
    const deps = await open("postgres://postgres@127.0.0.1:1/custody");
    const result = await within(deps.readiness.postgres!(), 1_900);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error & { code?: string }).code).toBe("ECONNREFUSED");
  });
});
