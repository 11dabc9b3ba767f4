/**
 * The targets of issue 9 ("Performance: five times the deliveries per core …"), each with the figure
 * the pipeline benchmark measured and whether it is met. A target whose phase did not run, or ran in
 * a shape other than the target's (a shorter window, another rate), is "not measured", with the
 * figure shown when there is one. `custody audit` is measured by `npm run bench -- audit`: its row
 * reads bench/results/audit.json when that file exists.
 */
import { readFile } from "node:fs/promises";
import type { Options } from "./pipeline-options.js";

export type Verdict = "met" | "missed" | "not measured";

export interface TargetRow {
  target: string;
  figure: string;
  goal: string;
  verdict: Verdict;
  /** Why "not measured", what a verdict rests on, where a figure comes from. */
  note?: string;
}

const fmt = (x: number | undefined | null, digits = 0): string => (x === undefined || x === null ? "–" : Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : "∞");
const kb = (bytes: number | undefined) => (bytes === undefined ? "–" : `${fmt(bytes / 1000, 2)} KB`);

/** The audit benchmark's leaves/s figure, from bench/results/audit.json if it is there. */
export async function readAuditFigure(): Promise<{ leavesPerSecond: number | undefined; key: string | undefined; at: string | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(new URL("./results/audit.json", import.meta.url), "utf8");
  } catch {
    return undefined;
  }
  const json = JSON.parse(text) as { figures?: Record<string, number>; at?: string };
  const keys = Object.keys(json.figures ?? {}).filter((k) => /leaves?\s*\/\s*s|leaves per second/i.test(k));
  const key = keys.find((k) => /median/i.test(k)) ?? keys[0];
  return { leavesPerSecond: key === undefined ? undefined : json.figures![key], key, at: json.at };
}

/** Other processes on this shared machine above this (% of one core) make a phase's figures not comparable. */
const FOREIGN_PCT = 15;

export function targetsOf(f: Record<string, number | undefined>, opts: Options, audit: Awaited<ReturnType<typeof readAuditFigure>>): TargetRow[] {
  const rows: TargetRow[] = [];
  /** Rows whose phases ran with foreign load say so (the verdict stands; the figure is suspect). */
  const foreignPhases: Record<number, string[]> = {};
  const push = (row: TargetRow, phases: string[]) => {
    foreignPhases[rows.length] = phases;
    rows.push(row);
  };
  const has = (k: string) => f[k] !== undefined && f[k] !== null;
  const verdict = (ok: boolean): Verdict => (ok ? "met" : "missed");

  // 1. Deliveries per second, sustained for 60 s, none lost.
  {
    const dps = f["throughput: deliveries/s sustained"];
    const lost = f["throughput: lost (events × endpoints − delivered)"];
    const row: TargetRow = { target: "deliveries/s sustained for 60 s, 0 lost", figure: `${fmt(dps)}/s, ${fmt(lost)} lost`, goal: "≥ 2,500 (stretch 5,000), 0 lost", verdict: "not measured" };
    if (dps === undefined) row.note = "phase throughput not run";
    else if (opts.seconds < 60) row.note = `--seconds=${opts.seconds}: the target's window is 60 s`;
    else {
      row.verdict = verdict(dps >= 2_500 && lost === 0);
      if (dps >= 5_000 && lost === 0) row.note = "stretch met";
    }
    push(row, ["throughput"]);
  }
  // 2. CPU per delivery, all of the platform's processes.
  {
    const ms = f["throughput cost: platform CPU ms per delivery"];
    push(
      {
        target: "CPU per delivery: API, pipeline, their Postgres backends, NATS",
        figure: `${fmt(ms, 2)} ms`,
        goal: "≤ 0.7 ms",
        verdict: ms === undefined ? "not measured" : verdict(ms <= 0.7),
        note: ms === undefined ? "phase throughput not run" : `throughput window; ingest ÷ ${opts.endpoints} endpoints`,
      },
      ["throughput"],
    );
  }
  // 3. Platform ÷ bare ceiling, and ahead of the peer in the same run.
  {
    const pct = f["ratio: platform deliveries/s ÷ ceiling (%)"];
    push(
      {
        target: "platform ÷ bare ceiling (undici → receiver), same run",
        figure: `${fmt(pct, 1)} % (${fmt(f["throughput: deliveries/s sustained"])} ÷ ${fmt(f["ceiling: undici → receiver (req/s)"])})`,
        goal: "≥ 18 %",
        verdict: pct === undefined ? "not measured" : verdict(pct >= 18),
        note: pct === undefined ? "needs phases throughput and ceiling" : undefined,
      },
      ["throughput", "ceiling"],
    );
    const ratio = f["peer: Custody ÷ bullmq-baseline deliveries/s"];
    const c = f[Object.keys(f).find((k) => k.startsWith("peer: Custody deliveries/s")) ?? ""];
    const p = f[Object.keys(f).find((k) => k.startsWith("peer: bullmq-baseline deliveries/s")) ?? ""];
    const lost = (f["peer: Custody accepted − delivered"] ?? 0) > 0;
    const row: TargetRow = {
      target: "… and ahead of the peer, same run (load.mjs, batches of 100)",
      figure: ratio === undefined ? "–" : `${fmt(c)} vs ${fmt(p)} deliveries/s (× ${fmt(ratio, 2)})`,
      goal: "Custody > bullmq-baseline",
      verdict: "not measured",
    };
    if (ratio === undefined) row.note = "phase peer not run";
    else if (opts.peerBatch !== 100 || opts.peerRate !== 0) row.note = `--peer-batch=${opts.peerBatch} --peer-rate=${opts.peerRate}: not the throughput shape`;
    else {
      row.verdict = verdict(ratio > 1 && !lost);
      if (lost) row.note = "Custody lost deliveries in load.mjs's run";
      const busy = Math.max(...["bullmq-baseline", "Custody"].map((n) => f[`peer: ${n} machine busy as its load started, worst run (%)`] ?? 0));
      if (busy > opts.peerIdlePct) row.note = [row.note, `a run started on a machine ${busy} % busy (the idle wait timed out): not comparable`].filter(Boolean).join("; ");
      const limited = ["bullmq-baseline", "Custody"].reduce((n, name) => n + (f[`peer: ${name} runs whose settle ran to its 120 s limit`] ?? 0), 0);
      if (limited > 0) row.note = [row.note, `the machine never went idle after ${limited} run(s) (settle at its 120 s limit: other load, or the platform still working): not comparable`].filter(Boolean).join("; ");
    }
    push(row, []);
  }
  // 4. A new user's latency: 100 single events/s.
  {
    const key = `latency @ ${opts.gentleRate}/s`;
    const p50 = f[`${key}: ingest→delivered p50 (ms)`];
    const p99 = f[`${key}: … p99 (ms)`];
    const row: TargetRow = { target: "ingest→delivered at 100 events/s: p50 / p99", figure: `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`, goal: "≤ 10 / ≤ 35 ms", verdict: "not measured" };
    if (!has(`${key}: events/s offered`)) row.note = "phase gentle not run";
    else if (opts.gentleRate !== 100) row.note = `--gentle-rate=${opts.gentleRate}`;
    else {
      const ok50 = (p50 ?? Infinity) <= 10;
      const ok99 = (p99 ?? Infinity) <= 35;
      row.verdict = verdict(ok50 && ok99);
      if (!ok50 || !ok99) row.note = `missed: ${[ok50 ? "" : "p50", ok99 ? "" : "p99"].filter(Boolean).join(" and ")}`;
    }
    push(row, ["gentle"]);
  }
  // 5. 1,000 events/s (2,000 deliveries/s) open loop for 20 s.
  {
    const key = `latency @ ${opts.rate}/s`;
    const sustained = f[`${key}: rate sustained (1 yes, 0 no)`];
    const p99 = f[`${key}: … p99 (ms)`];
    const undelivered = (f[`${key}: not delivered 30 s after the load`] ?? 0) + (f[`${key}: requests refused`] ?? 0);
    const row: TargetRow = {
      target: "1,000 events/s open loop for 20 s: sustained, p99",
      figure: sustained === undefined ? "–" : `${sustained === 1 ? "sustained" : "not sustained"}, p99 ${fmt(p99, 1)} ms`,
      goal: "sustained, p99 ≤ 250 ms",
      verdict: "not measured",
    };
    if (sustained === undefined) row.note = "phase latency not run";
    else if (opts.rate === 1_000 && sustained === 0)
      row.verdict = "missed"; // given up on within a shorter window too
    else if (opts.rate !== 1_000 || opts.latencySeconds < 20) row.note = `--rate=${opts.rate}, --latency-seconds=${opts.latencySeconds}`;
    else {
      row.verdict = verdict(sustained === 1 && undelivered === 0 && (p99 ?? Infinity) <= 250);
      if (undelivered > 0) row.note = `${undelivered} refused or not delivered`;
    }
    push(row, ["latency"]);
  }
  // 6. Single-event ingest, 64 clients in flight.
  {
    const eps = f["ingest: events/s accepted (single events, pipeline stopped)"];
    const row: TargetRow = {
      target: "single-event POST /api/v2/events, 64 clients in flight",
      figure: eps === undefined ? "–" : `${fmt(eps)} events/s (${fmt(f["ingest cost: API + Postgres, CPU ms per event"], 2)} ms CPU per event)`,
      goal: "≥ 3,000 events/s",
      verdict: "not measured",
    };
    if (eps === undefined) row.note = "phase ingest not run";
    else if (opts.concurrency !== 64) row.note = `--concurrency=${opts.concurrency}`;
    else {
      row.verdict = verdict(eps >= 3_000 && (f["ingest: requests refused (non-201)"] ?? 0) === 0);
      row.note = "pipeline stopped: API and Postgres only";
    }
    push(row, ["ingest"]);
  }
  // 7. Write volume.
  {
    const stored = f["throughput pg: bytes stored per delivery (tables + indexes)"];
    const wal = f["throughput pg: WAL bytes per delivery (cluster-wide)"];
    push(
      {
        target: "bytes stored / WAL per delivery",
        figure: `${kb(stored)} / ${kb(wal)}`,
        goal: "≤ 3 KB / ≤ 5 KB",
        verdict: stored === undefined || wal === undefined ? "not measured" : verdict(stored <= 3_000 && wal <= 5_000),
        note: stored === undefined ? "phase throughput not run" : "KB = 1,000 bytes; WAL is cluster-wide (includes other databases' writes)",
      },
      ["throughput"],
    );
  }
  // 8. custody audit, measured elsewhere.
  {
    const row: TargetRow = { target: "`custody audit`", figure: "–", goal: "≥ 100,000 leaves/s, progress bar on a TTY", verdict: "not measured" };
    if (audit === undefined) row.note = "measured by `npm run bench -- audit` (bench/results/audit.json): not there";
    else if (audit.leavesPerSecond === undefined) row.note = "bench/results/audit.json has no leaves/s figure";
    else {
      row.figure = `${fmt(audit.leavesPerSecond)} leaves/s`;
      row.verdict = verdict(audit.leavesPerSecond >= 100_000);
      row.note = `from bench/results/audit.json (${audit.at ?? "undated"}, "${audit.key}"), not this run; the progress bar is not measured`;
    }
    push(row, []);
  }
  rows.forEach((row, i) => {
    const worst = Math.max(0, ...foreignPhases[i]!.map((p) => f[`${p} cpu: other processes (not this benchmark) (% of a core)`] ?? 0));
    if (worst > FOREIGN_PCT) row.note = [row.note, `other processes used up to ${worst} % of a core meanwhile: not comparable`].filter(Boolean).join("; ");
  });
  return rows;
}

/** The rows as a Markdown table. */
export function targetsMarkdown(rows: readonly TargetRow[]): string[] {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    "| target | figure | goal | | note |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${esc(r.target)} | ${esc(r.figure)} | ${esc(r.goal)} | ${r.verdict === "met" ? "**met**" : r.verdict === "missed" ? "*missed*" : r.verdict} | ${esc(r.note ?? "")} |`),
  ];
}

/** The rows as aligned plain text, for the end of the console output. */
export function targetsText(rows: readonly TargetRow[]): string[] {
  const cols = [(r: TargetRow) => r.target, (r: TargetRow) => r.figure, (r: TargetRow) => r.goal, (r: TargetRow) => r.verdict.toUpperCase()];
  const head = ["target", "figure", "goal", "verdict"];
  const widths = cols.map((c, i) => Math.max(head[i]!.length, ...rows.map((r) => c(r).length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")}`.trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.flatMap((r) => [line(cols.map((c) => c(r))), ...(r.note ? [`  ${" ".repeat(widths[0]!)}  ↳ ${r.note}`] : [])])];
}
