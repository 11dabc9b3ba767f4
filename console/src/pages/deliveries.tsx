import { useState } from "preact/hooks";
import { get, type Delivery, type Endpoint, type Page } from "../api";
import { href, navigate, useRoute } from "../router";
import { Empty, ErrorBox, Field, fromLocalInput, Loading, StatusBadge, Time, toLocalInput, useAsync, useTitle } from "../ui";

const STATUSES = ["pending", "delivering", "retrying", "delivered", "dead", "cancelled"];

export function useEndpoints() {
  return useAsync((signal) => get<Page<Endpoint>>("/api/v2/webhooks", { limit: "100" }, signal), []);
}

export function endpointLabel(e: Endpoint | undefined, id: string | null | undefined): string {
  if (id === null || id === undefined) return "callback";
  if (e === undefined) return id;
  return e.displayName || e.url;
}

export function DeliveriesPage() {
  useTitle("Deliveries");
  const { query } = useRoute();
  const filters = {
    endpoint: query.get("endpoint") ?? "",
    eventType: query.get("eventType") ?? "",
    status: query.get("status") ?? "",
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
  };
  const cursor = query.get("cursor") ?? undefined;
  const back = query.get("back") ?? "";
  const endpoints = useEndpoints();
  const byId = new Map((endpoints.data?.data ?? []).map((e) => [e.id, e]));
  const [form, setForm] = useState(filters);
  // The first page follows new deliveries as they arrive; later pages hold still.
  const page = useAsync(
    (signal) => get<Page<Delivery>>("/api/v2/deliveries", { limit: "50", cursor, endpointId: filters.endpoint, eventType: filters.eventType, status: filters.status, from: filters.from, to: filters.to }, signal),
    [cursor, filters.endpoint, filters.eventType, filters.status, filters.from, filters.to],
    cursor === undefined ? 2_000 : undefined,
  );
  const apply = (e: Event) => {
    e.preventDefault();
    navigate("/deliveries", { ...form });
  };
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const rows = page.data?.data ?? [];
  const next = page.data?.nextCursor ?? null;
  const filtered = Object.values(filters).some((v) => v !== "");

  return (
    <div>
      <h1>Deliveries</h1>
      <form class="filters panel" onSubmit={apply} aria-label="Filter deliveries">
        <Field label="Endpoint">
          <select value={form.endpoint} onChange={set("endpoint")} name="endpoint">
            <option value="">All endpoints</option>
            {(endpoints.data?.data ?? []).map((e) => (
              <option key={e.id} value={e.id}>
                {endpointLabel(e, e.id)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Event type">
          <input name="eventType" value={form.eventType} onInput={set("eventType")} placeholder="identity.registration.final" />
        </Field>
        <Field label="Status">
          <select value={form.status} onChange={set("status")} name="status">
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field label="From">
          <input type="datetime-local" name="from" value={toLocalInput(form.from)} onInput={(e) => setForm({ ...form, from: fromLocalInput((e.target as HTMLInputElement).value) ?? "" })} />
        </Field>
        <Field label="To">
          <input type="datetime-local" name="to" value={toLocalInput(form.to)} onInput={(e) => setForm({ ...form, to: fromLocalInput((e.target as HTMLInputElement).value) ?? "" })} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Apply
          </button>
          {filtered ? (
            <a class="button" href={href("/deliveries")} onClick={() => setForm({ endpoint: "", eventType: "", status: "", from: "", to: "" })}>
              Clear
            </a>
          ) : null}
        </div>
      </form>
      <ErrorBox error={endpoints.error} onRetry={endpoints.reload} />
      <ErrorBox error={page.error} onRetry={page.reload} />
      {page.data === undefined && page.loading ? <Loading what="deliveries" /> : null}
      {page.data !== undefined && rows.length === 0 && !page.data.searchedTo ? (
        <Empty>
          {filtered ? (
            <p>No delivery matches these filters. Widen the time range or clear a filter.</p>
          ) : (
            <p>
              No deliveries yet. <a href={href("/endpoints")}>Create an endpoint</a>, then send it a test event or publish an event with <code>POST /api/v2/events</code>.
            </p>
          )}
        </Empty>
      ) : null}
      {page.data?.searchedTo ? (
        <p class="notice" role="status">
          Searched back to <Time at={page.data.searchedTo} /> ({rows.length} found on this page). Go to the next page to search further back, or narrow the time range.
        </p>
      ) : null}
      {rows.length > 0 ? (
        <table class="table" aria-label="Deliveries" data-testid="deliveries">
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last result</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                <td data-label="Created">
                  {d.endpointId ? (
                    <a href={href(`/deliveries/${d.endpointId}/${d.id}`)}>
                      <Time at={d.createdAt} />
                    </a>
                  ) : (
                    <Time at={d.createdAt} />
                  )}
                </td>
                <td data-label="Event">
                  <span class="mono">{d.eventType}</span>
                  <br />
                  <span class="muted mono small">{d.eventId}</span>
                </td>
                <td data-label="Endpoint">{endpointLabel(byId.get(d.endpointId ?? ""), d.endpointId)}</td>
                <td data-label="Status">
                  <StatusBadge status={d.status} />
                  {d.replayId ? <span class="muted small"> replay</span> : null}
                </td>
                <td data-label="Attempts">{d.attempts}</td>
                <td data-label="Last result">{d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? d.deadReason ?? "—")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="pager">
        {cursor !== undefined ? (
          <a class="button" href={href("/deliveries", { ...filters, cursor: back || undefined, back: undefined })}>
            {back ? "Previous page" : "First page"}
          </a>
        ) : null}
        {next !== null ? (
          <a class="button" href={href("/deliveries", { ...filters, cursor: next, back: cursor })}>
            Next page
          </a>
        ) : null}
        {cursor === undefined ? <span class="muted small">Newest first; this page refreshes every 2 seconds.</span> : null}
      </div>
    </div>
  );
}
