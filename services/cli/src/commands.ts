import { parseArgs, type ParseArgsConfig } from "node:util";
import { AppError } from "@custody/errors";

export const usage = `usage: custody <command> [options]

commands:
  up                                  start Postgres/NATS if needed, migrate, run every service (npm start)
  migrate                             create the database if needed and apply pending migrations
  tenant create --name NAME [--json]  create a tenant and print its first API key
  keys list|rotate [--json]           the platform's signing keys; rotate retires the active one
  audit [--json]                      re-verify the whole ledger: leaves, tree, checkpoints and signatures
  receive [--port 4000] [--secret whsec_…] [--save DIR]
                                      a local webhook receiver that prints and verifies deliveries
  config docs                         print the configuration reference (docs/configuration.md)`;

type Handler = (args: string[]) => Promise<number>;

/** Each command loads only what it needs, so `custody config docs` works without a database. */
const commands: Record<string, Handler> = {
  up: async (args) => (await import("./up.js")).up(args),
  migrate: async (args) => (await import("./migrate.js")).migrateCommand(args),
  tenant: async (args) => (await import("./tenant.js")).tenantCommand(args),
  keys: async (args) => (await import("./keys.js")).keysCommand(args),
  audit: async (args) => (await import("./audit.js")).auditCommand(args),
  receive: async (args) => (await import("./receive.js")).receiveCommand(args),
  config: async (args) => (await import("./config-docs.js")).configCommand(args),
};

export async function runCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const handler = commands[name];
  if (!handler) throw new AppError("BAD_REQUEST", `unknown command '${name}'`);
  return handler(rest);
}

/** node:util parseArgs with our error model: a bad flag is a usage error (exit 2), not a crash. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new AppError("BAD_REQUEST", (err as Error).message, { cause: err });
  }
}
