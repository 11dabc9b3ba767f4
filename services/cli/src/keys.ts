import { loadConfig } from "@custody/config";
import { createDb } from "@custody/db";
import { AppError } from "@custody/errors";
import { listPlatformKeys, resolveMasterKey, rotatePlatformKey } from "@custody/keys";
import { createLogger } from "@custody/log";
import { formatVerifierKey, verifierKeyOf } from "@custody/note";
import { parseFlags } from "./commands.js";

/**
 * `custody keys list|rotate`: the platform's Ed25519 keys. Rotation retires the active key (its public
 * half stays published, so every proof it signed still verifies) and makes a new one; running
 * services pick it up within a minute.
 */
export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseFlags(rest, { json: { type: "boolean", default: false } });
  const config = loadConfig("cli");
  const { db } = createDb({ url: config.DATABASE_URL, poolMax: 2, statementTimeoutMs: config.CUSTODY_DB_STATEMENT_TIMEOUT_MS, applicationName: "custody-cli" });
  try {
    if (sub === "rotate") {
      const masterKey = resolveMasterKey(config.CUSTODY_MASTER_KEY, createLogger({ service: "custody", level: config.CUSTODY_LOG_LEVEL }));
      const signer = await rotatePlatformKey(db, masterKey, config.CUSTODY_LOG_ORIGIN);
      const vkey = formatVerifierKey(verifierKeyOf(signer));
      process.stdout.write(values.json ? `${JSON.stringify({ keyId: Buffer.from(signer.keyId).toString("hex"), vkey })}\n` : `new active key ${vkey}\n`);
      return 0;
    }
    if (sub === "list") {
      const keys = await listPlatformKeys(db);
      if (values.json) process.stdout.write(`${JSON.stringify({ keys })}\n`);
      else for (const k of keys) process.stdout.write(`${k.validTo === null ? "active " : "retired"} ${k.vkey}  from ${k.validFrom.toISOString()}${k.validTo ? ` to ${k.validTo.toISOString()}` : ""}\n`);
      return 0;
    }
    throw new AppError("BAD_REQUEST", `unknown keys command '${sub ?? ""}' (expected: list, rotate)`);
  } finally {
    await db.destroy();
  }
}
