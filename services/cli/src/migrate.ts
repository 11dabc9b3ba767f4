import { loadConfig } from "@custody/config";
import { ensureDatabase, migrate } from "@custody/db";
import { parseFlags } from "./commands.js";

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { json: { type: "boolean", default: false } });
  const config = loadConfig("cli");
  await ensureDatabase(config.DATABASE_URL);
  const report = await migrate(config.DATABASE_URL);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.applied.length === 0) {
    process.stdout.write(`database is up to date (${report.alreadyApplied.length} migrations applied)\n`);
  } else {
    for (const name of report.applied) process.stdout.write(`applied ${name}\n`);
  }
  return 0;
}
