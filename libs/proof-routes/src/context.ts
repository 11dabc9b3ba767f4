import type { Db } from "@custody/db";
import type { Logger } from "@custody/log";

/** What every proof route needs. */
export interface ProofsContext {
  db: Db;
  logger: Logger;
  /** The log's origin line (CUSTODY_LOG_ORIGIN): the name its checkpoints are signed under. */
  logOrigin: string;
}
