import type { Logger } from "@custody/log";
import type { HttpApp } from "./app.js";
import { onShutdown } from "@custody/runtime";

export interface ServeOptions {
  host: string;
  port: number;
  logger: Logger;
  graceMs: number;
  /** Closes what the app uses (pools, connections) after the server stopped accepting and drained. */
  close: () => Promise<void>;
}

/** Listens, and on SIGTERM/SIGINT stops accepting, drains in-flight requests, then closes the rest. */
export async function serve(app: HttpApp, options: ServeOptions): Promise<string> {
  const address = await app.listen({ host: options.host, port: options.port });
  onShutdown(options.logger, options.graceMs, async () => {
    await app.close();
    await options.close();
  });
  return address;
}
