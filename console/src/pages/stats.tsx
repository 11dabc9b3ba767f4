import { useEffect, useRef, useState } from "preact/hooks";
import type uPlot from "uplot";
import { get, type Endpoint, type Page } from "../api";
import { href } from "../router";
import { Empty, ErrorBox, Field, Loading, Section, useAsync, useTitle } from "../ui";

interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface Block {
  deliveries: Record<"total" | "pending" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled", number>;
  successRate: number | null;
  deliveryLatencyMs: Percentiles;
  attemptLatencyMs: Percentiles;
}
interface Stats {
  window: string;
  from: string;
  to: string;
  overall: Block;
  endpoints: Array<Block & { endpointId: string }>;
  series: { bucketSeconds: number; points: Array<{ at: string } & Record<"pending" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled", number>> };
}

const COLORS = { delivered: "#1a7f37", dead: "#cf222e", retrying: "#9a6700", queued: "#0969da", cancelled: "#6e7781", p50: "#0969da", p95: "#9a6700", p99: "#cf222e" };

/** A uPlot chart that follows its container's width; uPlot is loaded with this page only. */
function Chart({ label, make }: { label: string; make: (u: typeof uPlot, width: number) => { opts: uPlot.Options; data: uPlot.AlignedData } }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let plot: uPlot | undefined;
    let observer: ResizeObserver | undefined;
    let gone = false;
    import("uplot").then(
      ({ default: U }) => {
        if (gone || box.current === null) return;
        const el = box.current;
        const width = Math.max(280, el.clientWidth);
        const { opts, data } = make(U, width);
        plot = new U(opts, data, el);
        observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, el.clientWidth), height: opts.height }));
        observer.observe(el);
      },
      (err: unknown) => setError(err),
    );
    return () => {
      gone = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [make]);
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={label} />
      <ErrorBox error={error} />
    </figure>
  );
}

const ms = (v: number | null) => (v === null ? "—" : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);

export function StatsPage() {
  useTitle("Stats");
  const [window, setWindow] = useState("day");
  const stats = useAsync((signal) => get<Stats>("/api/v2/webhooks/stats", { window }, signal), [window], 30_000);
  const endpoints = useAsync((signal) => get<Page<Endpoint>>("/api/v2/webhooks", { limit: "100" }, signal), []);
  const names = new Map((endpoints.data?.data ?? []).map((e) => [e.id, e.displayName || e.url]));
  const s = stats.data;
  return (
    <div>
      <h1>Stats</h1>
      <div class="filters panel">
        <Field label="Window">
          <select name="window" value={window} onChange={(e) => setWindow((e.target as HTMLSelectElement).value)}>
            <option value="hour">Last hour</option>
            <option value="day">Last day</option>
            <option value="week">Last week</option>
          </select>
        </Field>
      </div>
      <ErrorBox error={stats.error} onRetry={stats.reload} />
      {s === undefined && !stats.error ? <Loading what="statistics" /> : null}
      {s !== undefined && s.overall.deliveries.total === 0 ? (
        <Empty>
          <p>
            No deliveries in this window. Send a test event from an <a href={href("/endpoints")}>endpoint</a>, or pick a longer window.
          </p>
        </Empty>
      ) : null}
      {s !== undefined && s.overall.deliveries.total > 0 ? <StatsCharts s={s} names={names} key={`${s.window}-${s.to}`} /> : null}
    </div>
  );
}

function StatsCharts({ s, names }: { s: Stats; names: Map<string, string> }) {
  const o = s.overall;
  const xs = s.series.points.map((p) => Date.parse(p.at) / 1000);
  const series = (pick: (p: Stats["series"]["points"][number]) => number | null) => s.series.points.map(pick);
  const outcomes = (U: typeof uPlot, width: number) => ({
    opts: {
      width,
      height: 240,
      series: [
        {},
        { label: "delivered", stroke: COLORS.delivered, width: 2 },
        { label: "dead", stroke: COLORS.dead, width: 2 },
        { label: "retrying", stroke: COLORS.retrying, width: 2 },
        { label: "pending / delivering", stroke: COLORS.queued, width: 2 },
        { label: "cancelled", stroke: COLORS.cancelled, width: 2 },
      ],
      axes: [{}, { label: "deliveries" }],
      scales: { x: { time: true } },
    } satisfies uPlot.Options,
    data: [xs, series((p) => p.delivered), series((p) => p.dead), series((p) => p.retrying), series((p) => p.pending + p.delivering), series((p) => p.cancelled)] as uPlot.AlignedData,
    U,
  });
  const success = (_U: typeof uPlot, width: number) => ({
    opts: {
      width,
      height: 200,
      series: [{}, { label: "success rate %", stroke: COLORS.delivered, width: 2, spanGaps: false, points: { show: true, size: 6, fill: COLORS.delivered } }],
      axes: [{}, { label: "%" }],
      scales: { x: { time: true }, y: { range: [0, 100] as [number, number] } },
    } satisfies uPlot.Options,
    data: [xs, series((p) => (p.delivered + p.dead === 0 ? null : (100 * p.delivered) / (p.delivered + p.dead)))] as uPlot.AlignedData,
  });
  const eps = s.endpoints.filter((e) => e.deliveryLatencyMs.count > 0 || e.deliveries.total > 0);
  const latency = (U: typeof uPlot, width: number) => {
    const bars = (align: -1 | 0 | 1) => U.paths.bars!({ size: [0.28, 60], align });
    return {
      opts: {
        width,
        height: 240,
        series: [
          {},
          { label: "p50", fill: COLORS.p50, stroke: COLORS.p50, paths: bars(-1), points: { show: false } },
          { label: "p95", fill: COLORS.p95, stroke: COLORS.p95, paths: bars(0), points: { show: false } },
          { label: "p99", fill: COLORS.p99, stroke: COLORS.p99, paths: bars(1), points: { show: false } },
        ],
        scales: { x: { time: false, range: [-0.6, Math.max(eps.length - 0.4, 0.6)] as [number, number] }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(max * 1.1, 1)] as [number, number] } },
        axes: [
          { values: (_u: uPlot, splits: number[]) => splits.map((i) => (Number.isInteger(i) && eps[i] ? (names.get(eps[i]!.endpointId) ?? eps[i]!.endpointId).slice(0, 24) : "")), splits: () => eps.map((_, i) => i) },
          { label: "ms", values: (_u: uPlot, v: number[]) => v.map((x) => ms(x)) },
        ],
      } satisfies uPlot.Options,
      data: [eps.map((_, i) => i), eps.map((e) => e.deliveryLatencyMs.p50), eps.map((e) => e.deliveryLatencyMs.p95), eps.map((e) => e.deliveryLatencyMs.p99)] as uPlot.AlignedData,
    };
  };
  return (
    <>
      <ul class="tiles">
        <li class="tile">
          <span class="num">{o.deliveries.total.toLocaleString()}</span> deliveries
        </li>
        <li class="tile">
          <span class="num">{o.successRate === null ? "—" : `${(o.successRate * 100).toFixed(1)} %`}</span> success rate
        </li>
        <li class="tile">
          <span class="num">{ms(o.deliveryLatencyMs.p95)}</span> p95 delivery latency
        </li>
        <li class="tile">
          <span class="num">{o.deliveries.dead.toLocaleString()}</span> dead-lettered
        </li>
      </ul>
      <Section title="Deliveries by outcome" id="chart-outcomes">
        <Chart label={`Deliveries by status per ${s.series.bucketSeconds / 60} minutes`} make={outcomes} />
      </Section>
      <Section title="Success rate" id="chart-success">
        <Chart label="Share of settled deliveries that were delivered, per bucket" make={success} />
      </Section>
      <Section title="Delivery latency per endpoint (p50 / p95 / p99)" id="chart-latency">
        {eps.length === 0 ? <p class="muted">No endpoint delivered anything in this window.</p> : <Chart label="Delivery latency percentiles per endpoint" make={latency} />}
        <table class="sr-only">
          <caption>Delivery latency per endpoint</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
              <th scope="col">p99</th>
            </tr>
          </thead>
          <tbody>
            {eps.map((e) => (
              <tr key={e.endpointId}>
                <td>{names.get(e.endpointId) ?? e.endpointId}</td>
                <td>{ms(e.deliveryLatencyMs.p50)}</td>
                <td>{ms(e.deliveryLatencyMs.p95)}</td>
                <td>{ms(e.deliveryLatencyMs.p99)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}
