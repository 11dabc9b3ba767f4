import pino, { type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

export interface LoggerSettings {
  service: string;
  level: string;
  /** Pretty output for humans; defaults to whether stdout is a terminal. */
  pretty?: boolean;
}

/**
 * One logger per process. JSON lines for machines; pino-pretty when a person is watching.
 * Secrets never reach the log: the redact paths below cover every header and field that carries one.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service },
    redact: {
      paths: ["req.headers.authorization", "headers.authorization", "*.apiKey", "*.secret", "*.signingSecret", "*.masterKey"],
      censor: "[redacted]",
    },
  };
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } },
    });
  }
  return pino(options);
}
