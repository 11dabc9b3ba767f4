import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { checkDeliveryRecord, verifySealOf } from "@custody/custody";
import { AppError } from "@custody/errors";
import { parseVerifierKey, type VerifierKey } from "@custody/note";
import { verifyCustodySignature, verifyStandardSignature } from "@custody/signing";
import { parseFlags } from "./commands.js";

const SEAL_CHECK = "custody seal (inclusion in the signed batch)";
const NO_KEYS = "  – custody seal: not checked (no platform keys)";

/**
 * Checks one delivery the way a careful receiver would (proofs/FORMAT.md §10); returns a line per
 * check. Without the platform's keys the seal cannot be checked, and its line says so.
 */
export function checkDelivery(headers: Record<string, string>, body: Uint8Array, secret: string | undefined, keys: readonly VerifierKey[]): string[] {
  const lines: string[] = [];
  const check = (name: string, run: () => void) => {
    try {
      run();
      lines.push(`  ✓ ${name}`);
    } catch (err) {
      lines.push(`  ✗ ${name}: ${(err as Error).message}`);
    }
  };
  if (secret !== undefined) {
    check("webhook-signature (Standard Webhooks)", () => verifyStandardSignature({ headers, body, secrets: [secret], nowSeconds: Math.floor(Date.now() / 1000) }));
    check("x-custody-signature (sha256=)", () => verifyCustodySignature(secret, body, headers["x-custody-signature"]));
  }
  let custody: ReturnType<typeof checkDeliveryRecord> | undefined;
  check("custody record (body, signed headers, root, ids, timestamp)", () => {
    custody = checkDeliveryRecord({ headers, body });
  });
  if (custody === undefined) return lines;
  const { bytes, seal } = custody;
  if (keys.length === 0) lines.push(NO_KEYS);
  else check(SEAL_CHECK, () => verifySealOf(bytes, seal, keys));
  return lines;
}

/** Whether `checkDelivery`'s lines got as far as the seal and could not verify it with the keys it had. */
const sealUnverified = (lines: readonly string[]) => lines.some((l) => l === NO_KEYS || l.startsWith(`  ✗ ${SEAL_CHECK}`));

/**
 * `custody receive`: a local webhook receiver for trying the platform out. It prints every delivery
 * and checks its signatures and custody seal (with the platform keys from the proof service).
 */
export async function receiveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: "string", default: "4000" },
    secret: { type: "string" },
    proofs: { type: "string", default: "http://127.0.0.1:3001" },
    save: { type: "string" },
  });
  const saveDir = values.save;
  if (saveDir !== undefined) await mkdir(saveDir, { recursive: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AppError("BAD_REQUEST", "--port must be 1 to 65535");
  // Fetched again when a seal cannot be verified with the keys at hand: a fresh platform makes its
  // first key when it seals its first batch, and a rotation adds one.
  let keys: VerifierKey[] = [];
  let warned = false;
  const refreshKeys = async () => {
    try {
      const res = await fetch(`${values.proofs}/api/v2/proofs/keys`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      keys = ((await res.json()) as { keys: Array<{ vkey: string }> }).keys.map((k) => parseVerifierKey(k.vkey));
    } catch (err) {
      if (!warned) process.stderr.write(`could not fetch platform keys from ${values.proofs} (${(err as Error).message}); custody seals are not checked until it answers\n`);
      warned = true;
    }
  };
  await refreshKeys();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let checks = checkDelivery(headers, body, values.secret, keys);
      if (sealUnverified(checks)) {
        await refreshKeys();
        checks = checkDelivery(headers, body, values.secret, keys);
      }
      const lines = [`${new Date().toISOString()} ${req.method} ${req.url} ${headers["x-custody-event"] ?? ""} ${headers["webhook-id"] ?? ""}`, ...checks, `  ${body.toString("utf8").slice(0, 2000)}`];
      process.stdout.write(`${lines.join("\n")}\n`);
      if (saveDir !== undefined) {
        // Exactly the bytes received, named by delivery: what an auditor later checks against a proof.
        const name = (headers["x-custody-delivery-id"] ?? headers["webhook-id"] ?? "delivery").replace(/[^A-Za-z0-9._-]/g, "_");
        writeFileSync(join(saveDir, `${name}.body`), body);
        writeFileSync(join(saveDir, `${name}.headers.json`), `${JSON.stringify(headers, null, 2)}\n`);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  process.stdout.write(`receiving webhooks on http://127.0.0.1:${port}/ (Ctrl-C stops)\n`);
  return new Promise<number>(() => undefined);
}
