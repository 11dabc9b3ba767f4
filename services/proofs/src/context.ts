import type { Config } from "@custody/config";
import type { Db } from "@custody/db";
import type { Logger } from "@custody/log";

/** What every route plugin of the proof service needs. */
export interface ProofsContext {
  db: Db;
  config: Config<"proofs">;
  logger: Logger;
}
