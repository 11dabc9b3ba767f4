import { loadConfig } from "@custody/config";
import { createDb } from "@custody/db";
import { AppError } from "@custody/errors";
import { createTenant } from "@custody/tenancy";
import { parseFlags } from "./commands.js";

export async function tenantCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "create") throw new AppError("BAD_REQUEST", `unknown tenant command '${sub ?? ""}' (expected: create)`);
  const { values } = parseFlags(rest, {
    name: { type: "string" },
    live: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  if (values.name === undefined) throw new AppError("BAD_REQUEST", "tenant create needs --name NAME");
  const config = loadConfig("cli");
  const { db } = createDb({ url: config.DATABASE_URL, poolMax: 2, statementTimeoutMs: config.CUSTODY_DB_STATEMENT_TIMEOUT_MS, applicationName: "custody-cli" });
  try {
    const created = await createTenant(db, values.name, values.live ? "live" : "test");
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ tenantId: created.tenantId, apiKey: created.apiKey })}\n`);
    } else {
      process.stdout.write(`tenant  ${created.tenantId} (${created.name})\napi key ${created.apiKey}\n\nThe key is shown once; only its hash is stored.\n`);
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
