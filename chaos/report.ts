/** The chaos report: one table row per scenario, then each scenario's own figures and failures. */
import type { Result } from "./scenario.js";

const s = (ms: number | undefined) => (ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`);

function fiveXx(r: Result): string {
  const entries = Object.entries(r.figures.fiveXx ?? {});
  return entries.length === 0 ? "0" : entries.map(([k, n]) => `${n}× ${k}`).join(", ");
}

export function formatReport(results: readonly Result[], header: string): string {
  const lines = [header, ""];
  lines.push("| scenario | result | accepted | delivered | lost | duplicates (byte-identical) | 5xx seen by clients | no answer | API back | recovered | audit | time |");
  lines.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of results) {
    const f = r.figures;
    const verdict = r.skipped ? "skipped" : r.passed ? "pass" : "FAIL";
    const dups = f.duplicates === undefined ? "–" : `${f.duplicates} (${f.duplicates - (f.duplicatesDiffering ?? 0)})`;
    const auditCell = f.audit === undefined ? "–" : f.audit.ok ? `ok, ${f.audit.treeSize} leaves` : "FAILED";
    lines.push(
      `| ${r.name} | ${verdict} | ${f.accepted ?? "–"} | ${f.delivered === undefined ? "–" : `${f.delivered}/${f.expected}`} | ${f.lost ?? "–"} | ${dups} | ${r.skipped ? "–" : fiveXx(r)} | ${f.noAnswer ?? "–"} | ${s(f.apiBackMs)} | ${s(f.recoverMs)} | ${auditCell} | ${s(r.ms)} |`,
    );
  }
  for (const r of results) {
    lines.push("", `${r.name}: ${r.title}`);
    for (const [k, v] of Object.entries(r.extra)) lines.push(`  ${k}: ${v}`);
    if (r.figures.exits !== undefined) lines.push(`  processes that exited on their own: ${r.figures.exits}`);
    for (const n of r.notes) lines.push(`  note: ${n}`);
    for (const f of r.failures) lines.push(`  FAILED: ${f.split("\n").join("\n    ")}`);
  }
  return lines.join("\n");
}
