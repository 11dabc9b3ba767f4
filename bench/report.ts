import { SingleBar } from "cli-progress";
import { targetsText, type TargetRow } from "./targets.js";

export interface BenchResult {
  name: string;
  figures: Record<string, number>;
  /** Targets with their figures and verdicts (the pipeline benchmark: issue 9), printed last. */
  targets?: TargetRow[];
}

/** A progress bar on a terminal; silent otherwise, so logs stay readable. */
export function progress(label: string, total: number): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label.padEnd(18)} {bar} {value}/{total}`, stream: process.stderr, clearOnComplete: true });
  bar.start(total, 0);
  return { update: (n) => bar.update(Math.min(n, total)), stop: () => bar.stop() };
}

export function printResult(result: BenchResult): void {
  const width = Math.max(...Object.keys(result.figures).map((k) => k.length));
  process.stdout.write(`\n## ${result.name}\n`);
  for (const [name, value] of Object.entries(result.figures)) process.stdout.write(`  ${name.padEnd(width)}  ${value === null ? "–" : value.toLocaleString("en-US")}\n`);
  if (result.targets !== undefined) process.stdout.write(`\n## ${result.name}: targets\n${targetsText(result.targets).join("\n")}\n`);
}
