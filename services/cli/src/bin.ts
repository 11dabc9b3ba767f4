import { AppError } from "@custody/errors";
import { runCommand, usage } from "./commands.js";

try {
  const code = await runCommand(process.argv.slice(2));
  process.exitCode = code;
} catch (err) {
  if (err instanceof AppError) {
    process.stderr.write(`custody: ${err.message}${err.code === "BAD_REQUEST" ? `\n\n${usage}` : ""}\n`);
    process.exitCode = err.code === "BAD_REQUEST" ? 2 : 1;
  } else {
    process.stderr.write(`custody: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
