import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "@custody/log";
import { ensureNats } from "./local-infra.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The nats-server process listening on `port`, found by its command line. */
function natsPid(port: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("nats-server") && args.includes(String(port))) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

const hasNats = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].some((p) => existsSync(p));

describe.skipIf(!hasNats)("a local nats-server started by ensureNats", () => {
  const dir = mkdtempSync(join(tmpdir(), "custody-local-nats-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stops at once when it was killed by a signal (the chaos suite SIGKILLs it, then stops it)", async () => {
    const port = await freePort();
    const nats = await ensureNats(`nats://127.0.0.1:${port}`, dir, createLogger({ service: "test", level: "silent", pretty: false }));
    const pid = natsPid(port);
    expect(pid).toBeDefined();
    process.kill(pid!, "SIGKILL");
    while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    // Before the fix the 'exit' event had passed and stop() waited for it forever.
    const stopped = await Promise.race([nats.stop().then(() => "stopped"), new Promise((r) => setTimeout(() => r("hung"), 3_000))]);
    expect(stopped).toBe("stopped");
  });
});

describe("ensureNats with a list of servers (a cluster)", () => {
  const dir = mkdtempSync(join(tmpdir(), "custody-local-nats-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const logger = createLogger({ service: "test", level: "silent", pretty: false });

  it("starts no server when none answers, and says why", async () => {
    const ports = [await freePort(), await freePort()];
    await expect(ensureNats(ports.map((p) => `nats://127.0.0.1:${p}`).join(","), dir, logger)).rejects.toThrowError(/no NATS server in NATS_URL answers/);
    for (const p of ports) expect(natsPid(p)).toBeUndefined();
  });

  it.skipIf(!hasNats)("uses the members that answer when the first does not", async () => {
    const down = await freePort();
    const up = await freePort();
    const local = await ensureNats(`nats://127.0.0.1:${up}`, dir, logger);
    try {
      const url = `nats://127.0.0.1:${down},nats://127.0.0.1:${up}`;
      const used = await ensureNats(url, dir, logger);
      expect(used).toMatchObject({ url, origin: "existing server" });
      expect(natsPid(down)).toBeUndefined();
    } finally {
      await local.stop();
    }
  });
});
