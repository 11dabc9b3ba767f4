import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { encodeBase64 } from "@custody/encoding";
import { buildFixtureV2 } from "./document-v2.fixture.js";
import { buildFixture } from "./document.fixture.js";

/*
 * The offline page in a real browser: Debian's Chromium driven by playwright-core. Chromium is a
 * system package a developer may not have, so outside CI the test skips, saying why; in CI (where
 * .ci/run installs it) a missing browser is a failure, never a silent skip.
 */
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const skipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;
if (skipReason !== undefined && process.env.CI === "true") throw new Error(`the browser verifier test cannot run in CI: ${skipReason}`);
if (skipReason !== undefined) console.warn(`browser verifier test skipped: ${skipReason}`);

const here = dirname(fileURLToPath(import.meta.url));
const PROOF_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "seal", "custody entry", "outcome", "hmac", "receipt"];
const V2_ORDER = ["checkpoint", "event", "prepared", "ingested", "signed", "root", "custody record", "seal", "chain", "outcome", "hmac", "receipt"];

describe.skipIf(skipReason !== undefined)(`proofs/verifier.html in Chromium${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`, () => {
  const work = mkdtempSync(join(tmpdir(), "custody-verifier-html-"));
  const fx = buildFixture();
  const v2 = buildFixtureV2();
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [resolve(here, "../build.mjs"), "--out", work], { stdio: "pipe" });
    writeFileSync(join(work, "chain-of-custody.json"), JSON.stringify(fx.document));
    writeFileSync(join(work, "payload.bin"), fx.thin.body);
    const flipped = Uint8Array.from(fx.thin.body);
    flipped[fx.thin.body.length >> 1]! ^= 1;
    writeFileSync(join(work, "flipped.bin"), flipped);
    writeFileSync(join(work, "chain-of-custody-v2.json"), JSON.stringify(v2.document));
    writeFileSync(join(work, "payload-v2.bin"), v2.thin.body);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    page = await browser.newPage();
    page.on("request", (r: { url(): string }) => requests.push(r.url()));
    page.on("pageerror", (e: Error) => errors.push(e.message));
    await page.goto(pathToFileURL(join(work, "verifier.html")).href);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Clicks Verify and returns the result line and the check lines once the page has rendered them. */
  async function verify(): Promise<{ result: string; lines: string[]; names: string[] }> {
    await page.evaluate(`document.getElementById("result").removeAttribute("data-ok")`);
    await page.click("#verify");
    await page.waitForSelector("#result[data-ok]", { timeout: 30_000 });
    const result = await page.evaluate<string>(`document.getElementById("result").textContent`);
    const lines = await page.evaluate<string[]>(`Array.from(document.querySelectorAll("#checks li"), (li) => li.textContent)`);
    const names = await page.evaluate<string[]>(`Array.from(document.querySelectorAll("#checks li"), (li) => li.dataset.name)`);
    return { result, lines, names };
  }

  it("verifies a delivered payload with every check ✓, offline", async () => {
    await page.fill("#key", fx.vkey);
    await page.fill("#secret", fx.thin.secret);
    await page.fill("#receipt-key", encodeBase64(fx.thin.receiptKey));
    await page.setInputFiles("#proof", join(work, "chain-of-custody.json"));
    await page.setInputFiles("#payload", join(work, "payload.bin"));
    const { result, lines, names } = await verify();
    expect(names).toEqual(PROOF_ORDER);
    expect(lines.filter((l) => !l.startsWith("✓ "))).toEqual([]);
    expect(result).toMatch(/^VALID/);
    expect(errors).toEqual([]);
    // Nothing but the page itself was ever requested.
    expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
  }, 60_000);

  it("shows ✗ prepared for a payload with one flipped byte", async () => {
    await page.setInputFiles("#payload", join(work, "flipped.bin"));
    const { result, lines } = await verify();
    expect(lines.map((l) => l.slice(0, 2) + l.split(" — ")[0]!.slice(2))).toEqual(["✓ checkpoint", "✓ event", "✗ prepared"]);
    expect(result).toMatch(/^INVALID: 1 check failed/);
    expect(errors).toEqual([]);
  }, 60_000);

  it("verifies a format 2 document with every check ✓", async () => {
    await page.fill("#key", v2.vkey);
    await page.fill("#secret", v2.thin.secret);
    await page.fill("#receipt-key", encodeBase64(v2.thin.receiptKey));
    await page.setInputFiles("#proof", join(work, "chain-of-custody-v2.json"));
    await page.setInputFiles("#payload", join(work, "payload-v2.bin"));
    const { result, lines, names } = await verify();
    expect(names).toEqual(V2_ORDER);
    expect(lines.filter((l) => !l.startsWith("✓ "))).toEqual([]);
    expect(result).toMatch(/^VALID/);
    expect(errors).toEqual([]);
    await page.setInputFiles("#proof", join(work, "chain-of-custody.json"));
    await page.fill("#secret", fx.thin.secret);
    await page.fill("#receipt-key", encodeBase64(fx.thin.receiptKey));
    await page.fill("#key", fx.vkey);
  }, 60_000);

  it("reports an unusable key without verifying", async () => {
    await page.fill("#key", "not-a-key");
    await page.setInputFiles("#payload", join(work, "payload.bin"));
    const { result, lines } = await verify();
    expect(lines).toEqual([]);
    expect(result).toMatch(/verifier key/);
  }, 60_000);
});
