import type { Logger } from "@custody/log";

/**
 * The key used when no CUSTODY_MASTER_KEY is configured outside production. It is public — anyone
 * reading this file has it — so it only keeps development data from being plain text.
 * `npm start` generates a real one in `.data/master.key` instead.
 */
const DEVELOPMENT_MASTER_KEY = Buffer.from("Y3VzdG9keS1kZXZlbG9wbWVudC1vbmx5LWluc2VjdXI=", "base64");

export function resolveMasterKey(configured: string | undefined, logger: Logger): Buffer {
  if (configured !== undefined) return Buffer.from(configured, "base64");
  logger.warn("CUSTODY_MASTER_KEY is not set: secrets are encrypted with the public development key; never run production like this");
  return DEVELOPMENT_MASTER_KEY;
}
