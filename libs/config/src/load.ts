import { z } from "zod";
import { AppError } from "@custody/errors";
import { fields } from "./fields.js";
import { serviceFields, type ServiceName } from "./schemas.js";

type Fields = typeof fields;
type Pick<S extends ServiceName> = (typeof serviceFields)[S][number];
export type Config<S extends ServiceName> = Readonly<{ [K in Pick<S>]: z.output<Fields[K]> }>;

function schemaFor(service: ServiceName) {
  const shape: Record<string, z.ZodType> = {};
  for (const name of serviceFields[service]) shape[name] = fields[name];
  return z.object(shape);
}

/**
 * Parses the settings of one process, once, at start. The result is frozen. A bad value throws a
 * CONFIG_INVALID error naming every offending variable and what was expected, so the process
 * stops before doing anything.
 */
export function loadConfig<S extends ServiceName>(service: S, env: Record<string, string | undefined> = process.env): Config<S> {
  const input: Record<string, string> = {};
  for (const name of serviceFields[service]) {
    const value = env[name];
    // An empty variable means "not set", as in most shells' `FOO= cmd`.
    if (value !== undefined && value !== "") input[name] = value;
  }
  const parsed = schemaFor(service).safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new AppError("CONFIG_INVALID", `invalid configuration for ${service}:\n  ${problems.join("\n  ")}`, {
      field: String(parsed.error.issues[0]?.path[0] ?? ""),
    });
  }
  const config = parsed.data as Record<string, unknown>;
  const { CUSTODY_PEER_HEARTBEAT_MS: beat, CUSTODY_PEER_TTL_MS: ttl } = config;
  // One late beat must not make a live process look dead and hand its share to the others.
  if (typeof beat === "number" && typeof ttl === "number" && ttl < 2 * beat) {
    throw new AppError("CONFIG_INVALID", `CUSTODY_PEER_TTL_MS (${ttl}) must be at least twice CUSTODY_PEER_HEARTBEAT_MS (${beat})`, { field: "CUSTODY_PEER_TTL_MS" });
  }
  if (config.CUSTODY_ENV === "production") {
    if (config.CUSTODY_MASTER_KEY === undefined) {
      throw new AppError("MASTER_KEY_MISSING", "CUSTODY_MASTER_KEY is required when CUSTODY_ENV=production (base64 of 32 random bytes: `openssl rand -base64 32`)", { field: "CUSTODY_MASTER_KEY" });
    }
    if (config.CUSTODY_ALLOW_LOOPBACK_TARGETS === true) {
      throw new AppError("CONFIG_INVALID", "CUSTODY_ALLOW_LOOPBACK_TARGETS cannot be enabled when CUSTODY_ENV=production", { field: "CUSTODY_ALLOW_LOOPBACK_TARGETS" });
    }
  }
  return Object.freeze(config) as Config<S>;
}
