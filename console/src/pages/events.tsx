import { useState } from "preact/hooks";
import { get, type Page } from "../api";
import { href, navigate, useRoute } from "../router";
import { Empty, ErrorBox, Field, fromLocalInput, Loading, Section, StatusBadge, Time, toLocalInput, useAsync, useTitle } from "../ui";
import { RecallForm } from "./delivery";

interface EventView {
  id: string;
  type: string;
  timestamp: string;
  data: unknown;
  metadata: unknown;
  supersedes: string | null;
  createdAt: string;
  ledger: { entryId: string; leafHash: string; leafIndex: number | null };
  deliveries: Array<{ id: string; endpointId: string | null; targetUrl: string; status: string; createdAt: string }>;
}

export function EventsPage() {
  useTitle("Events");
  const { query } = useRoute();
  const type = query.get("type") ?? "";
  const from = query.get("from") ?? new Date(Date.now() - 24 * 3600_000).toISOString();
  const cursor = query.get("cursor") ?? undefined;
  const [form, setForm] = useState({ id: "", type, from });
  const list = useAsync((signal) => get<Page<EventView>>("/api/v2/events", { limit: "50", type, from, cursor }, signal), [type, from, cursor]);
  const rows = list.data?.data ?? [];
  return (
    <div>
      <h1>Events</h1>
      <form
        class="filters panel"
        aria-label="Find events"
        onSubmit={(e) => {
          e.preventDefault();
          if (form.id.trim() !== "") navigate(`/events/${form.id.trim()}`);
          else navigate("/events", { type: form.type, from: form.from });
        }}
      >
        <Field label="Event id">
          <input name="eventId" value={form.id} onInput={(e) => setForm({ ...form, id: (e.target as HTMLInputElement).value })} placeholder="evt_… or your own id" />
        </Field>
        <Field label="Type">
          <input name="type" value={form.type} onInput={(e) => setForm({ ...form, type: (e.target as HTMLInputElement).value })} />
        </Field>
        <Field label="Accepted from">
          <input type="datetime-local" name="from" value={toLocalInput(form.from)} onInput={(e) => setForm({ ...form, from: fromLocalInput((e.target as HTMLInputElement).value) ?? form.from })} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Find
          </button>
        </div>
      </form>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data === undefined && !list.error ? <Loading what="events" /> : null}
      {list.data !== undefined && rows.length === 0 ? (
        <Empty>
          <p>
            No event accepted since <Time at={from} />
            {type ? ` of type ${type}` : ""}. Pick an earlier time, or publish one with <code>POST /api/v2/events</code>.
          </p>
        </Empty>
      ) : null}
      {rows.length > 0 ? (
        <table class="table" aria-label="Events">
          <thead>
            <tr>
              <th scope="col">Accepted</th>
              <th scope="col">Event</th>
              <th scope="col">Ledger</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id}>
                <td data-label="Accepted">
                  <Time at={e.createdAt} />
                </td>
                <td data-label="Event">
                  <a href={href(`/events/${encodeURIComponent(e.id)}`)} class="mono">
                    {e.id}
                  </a>
                  <br />
                  <span class="muted small mono">{e.type}</span>
                </td>
                <td data-label="Ledger">{e.ledger.leafIndex === null ? "sequencing…" : `leaf ${e.ledger.leafIndex}`}</td>
                <td data-label="Deliveries">{e.deliveries.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="pager">
        {cursor !== undefined ? (
          <a class="button" href={href("/events", { type, from })}>
            First page
          </a>
        ) : null}
        {list.data?.nextCursor ? (
          <a class="button" href={href("/events", { type, from, cursor: list.data.nextCursor })}>
            Next page
          </a>
        ) : null}
        <span class="muted small">Oldest first from the time chosen.</span>
      </div>
    </div>
  );
}

export function EventPage({ id }: { id: string }) {
  useTitle(`Event ${id}`);
  const ev = useAsync((signal) => get<EventView>(`/api/v2/events/${encodeURIComponent(id)}`, undefined, signal), [id]);
  if (ev.data === undefined) return ev.error ? <ErrorBox error={ev.error} onRetry={ev.reload} /> : <Loading what="the event" />;
  const e = ev.data;
  return (
    <div>
      <p class="crumbs">
        <a href={href("/events")}>Events</a>
      </p>
      <h1>
        Event <span class="mono">{e.id}</span>
      </h1>
      <dl class="facts">
        <dt>Type</dt>
        <dd class="mono">{e.type}</dd>
        <dt>Occurred</dt>
        <dd>
          <Time at={e.timestamp} />
        </dd>
        <dt>Accepted</dt>
        <dd>
          <Time at={e.createdAt} />
        </dd>
        <dt>Ledger entry</dt>
        <dd class="mono">{e.ledger.entryId}</dd>
        <dt>Leaf</dt>
        <dd data-testid="leaf-index">{e.ledger.leafIndex === null ? "not sequenced yet" : `index ${e.ledger.leafIndex}`}</dd>
        <dt>Leaf hash</dt>
        <dd class="mono small break">{e.ledger.leafHash}</dd>
        {e.supersedes ? (
          <>
            <dt>Supersedes</dt>
            <dd class="mono">{e.supersedes}</dd>
          </>
        ) : null}
      </dl>
      <Section title="Data" id="data">
        {e.data === null ? <p class="muted">Erased.</p> : <pre class="json">{JSON.stringify(e.data, null, 2)}</pre>}
      </Section>
      <Section title={`Deliveries (${e.deliveries.length})`} id="deliveries">
        {e.deliveries.length === 0 ? (
          <p class="muted">None: no endpoint subscribes to {e.type}, or fan-out has not run yet.</p>
        ) : (
          <table class="table" aria-label="Deliveries of this event">
            <thead>
              <tr>
                <th scope="col">Delivery</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {e.deliveries.map((d) => (
                <tr key={d.id}>
                  <td data-label="Delivery">{d.endpointId ? <a href={href(`/deliveries/${d.endpointId}/${d.id}`)}>{d.id}</a> : d.id}</td>
                  <td data-label="Target" class="mono small">
                    {d.targetUrl}
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={d.status} />
                  </td>
                  <td data-label="Created">
                    <Time at={d.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Recall" id="recall">
        <RecallForm eventId={e.id} />
      </Section>
    </div>
  );
}
