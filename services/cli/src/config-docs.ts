import { configurationMarkdown } from "@custody/config";
import { AppError } from "@custody/errors";

export async function configCommand(args: string[]): Promise<number> {
  if (args[0] !== "docs") throw new AppError("BAD_REQUEST", `unknown config command '${args[0] ?? ""}' (expected: docs)`);
  process.stdout.write(configurationMarkdown());
  return 0;
}
