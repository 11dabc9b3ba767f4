import type { Config } from "@custody/config";
import type { Db } from "@custody/db";
import type { Logger } from "@custody/log";
import type { Resolver } from "@custody/netguard";

/** What every route plugin of the API needs, handed down from `main.ts` (or a test). */
export interface ApiContext {
  db: Db;
  config: Config<"api">;
  /** Encrypts endpoint signing secrets at rest. */
  masterKey: Uint8Array;
  logger: Logger;
  /** DNS for the SSRF check of webhook URLs; the system resolver when absent. Tests inject one. */
  resolver?: Resolver;
}
