import type { Db } from "@custody/db";
import type { Logger } from "@custody/log";

/** What every proof route needs. */
export interface ProofsContext {
  db: Db;
  /**
   * A streaming replica of `db` (DATABASE_READ_URL) for the public ledger reads (ledger-snapshot.ts);
   * absent, they read `db`. Nothing is ever written through it.
   */
  readDb?: Db | undefined;
  logger: Logger;
  /** The log's origin line (CUSTODY_LOG_ORIGIN): the name its checkpoints are signed under. */
  logOrigin: string;
}
