import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { runTs } from "./support/processes.js";

/** The `custody` command as a user runs it: its own process, settings from the environment. */
describe("custody CLI", () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestDatabase("cli");
    env = { DATABASE_URL: t.url, CUSTODY_MASTER_KEY: randomBytes(32).toString("base64"), CUSTODY_LOG_ORIGIN: "custody.cli-test/log" };
  });
  afterAll(async () => {
    await t.drop();
  });
  const custody = (...args: string[]) => runTs("services/cli/src/bin.ts", args, env);

  it("migrates and creates a tenant whose key it prints once", async () => {
    expect((await custody("migrate")).stdout).toMatch(/database is up to date/);
    const created = await custody("tenant", "create", "--name", "Acme", "--json");
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ tenantId: expect.stringMatching(/^ten_/), apiKey: expect.stringMatching(/^ck_test_/) });
  });

  it("rotates platform keys and keeps the retired ones listed", async () => {
    const first = JSON.parse((await custody("keys", "rotate", "--json")).stdout);
    const second = JSON.parse((await custody("keys", "rotate", "--json")).stdout);
    expect(second.keyId).not.toBe(first.keyId);
    const listed = JSON.parse((await custody("keys", "list", "--json")).stdout).keys;
    expect(listed.map((k: { vkey: string }) => k.vkey)).toEqual([first.vkey, second.vkey]);
    expect(listed[0].validTo).not.toBeNull();
    expect(listed[1].validTo).toBeNull();
  });

  it("answers a bad command or flag with usage and exit 2", async () => {
    const bad = await custody("tenant", "create");
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/--name NAME/);
    expect((await custody("frobnicate")).code).toBe(2);
    expect((await custody("keys", "spin")).code).toBe(2);
  });

  it("prints the configuration reference without a database", async () => {
    const docs = await runTs("services/cli/src/bin.ts", ["config", "docs"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(docs.stdout).toMatch(/^# Configuration/);
  });
});
