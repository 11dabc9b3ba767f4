import pg from "pg";
import type { Logger } from "@custody/log";

const RECONNECT_MS = 1_000;

/**
 * Calls `onNotify` for every NOTIFY on `channel`, on a dedicated connection that reconnects after a
 * failure. Notifications only save latency — whoever listens also polls — so a lost connection is
 * logged, not fatal.
 */
export function listenFor(databaseUrl: string, channel: string, onNotify: () => void, logger: Logger): { close(): Promise<void> } {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: databaseUrl, application_name: `custody-listen-${channel}` });
    client = c;
    c.on("notification", onNotify);
    c.on("error", (err) => {
      logger.warn({ err, channel }, "notification listener failed; polling until it reconnects");
      void c.end().catch(() => undefined);
      if (!closed) retry = setTimeout(() => void connect(), RECONNECT_MS);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      c.emit("error", err);
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
