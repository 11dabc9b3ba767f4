/**
 * `npm run bench [-- part…] [--flag=value…]`: runs the benchmarks against the real Postgres (and
 * NATS), each in a database of its own, prints the figures, and writes them to
 * bench/results/<part>.json. Flags are for the parts that take them (see bench/pipeline.ts).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { benchAudit } from "./audit.js";
import { benchConsole } from "./console.js";
import { benchIngestWrite } from "./ingest-write.js";
import { benchLedger } from "./ledger.js";
import { benchPipeline } from "./pipeline.js";
import { benchSeal } from "./seal.js";
import { printResult, type BenchResult } from "./report.js";

const parts: Record<string, () => Promise<BenchResult>> = {
  ledger: benchLedger,
  pipeline: () => benchPipeline(process.argv.slice(2)),
  audit: () => benchAudit(process.argv.slice(2)),
  console: () => benchConsole(process.argv.slice(2)),
  seal: benchSeal,
  "ingest-write": benchIngestWrite,
};

// `--flag[=value]` and `NAME=value` arguments are options of the parts, not part names.
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-") && !a.includes("="));
const unknown = wanted.filter((w) => !(w in parts));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(parts).join(", ")}\n`);
  process.exit(2);
}
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
for (const name of wanted.length > 0 ? wanted : Object.keys(parts)) {
  const result = await parts[name]!();
  printResult(result);
  await writeFile(new URL(`./results/${name}.json`, import.meta.url), `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
}
