import { useState } from "preact/hooks";
import { call, get, newIdempotencyKey, type DeliveryDetail } from "../api";
import { href } from "../router";
import { useCan } from "../session";
import { download, ErrorBox, Field, Loading, Section, StatusBadge, Time, useAction, useAsync, useTitle } from "../ui";
import { ReplayForm } from "./replay";

const FINAL = new Set(["delivered", "dead", "cancelled"]);

export function DeliveryPage({ endpointId, deliveryId }: { endpointId: string; deliveryId: string }) {
  useTitle(`Delivery ${deliveryId}`);
  const [live, setLive] = useState(true);
  const d = useAsync(
    (signal) => get<DeliveryDetail>(`/api/v2/webhooks/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(deliveryId)}`, undefined, signal),
    [endpointId, deliveryId],
    live ? 1_500 : undefined,
  );
  const canRetry = useCan("retry");
  const canProofs = useCan("proofs");
  const isAdmin = useCan("admin");
  const retry = useAction(() =>
    call(`POST`, `/api/v2/webhooks/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(deliveryId)}/retries`, { idempotencyKey: newIdempotencyKey() }).then((r) => {
      d.reload();
      return r;
    }),
  );
  const body = useAction(async () => {
    const bytes = await call<Uint8Array>("GET", `/api/v2/webhooks/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(deliveryId)}/body`, { raw: true });
    download(`${deliveryId}.body.json`, bytes);
    return true;
  });
  if (d.data === undefined) return d.error ? <ErrorBox error={d.error} onRetry={d.reload} /> : <Loading what="the delivery" />;
  const x = d.data;
  if (live && FINAL.has(x.status) && x.attempts.length >= x.sealedAttempts) setTimeout(() => setLive(false), 0);
  return (
    <div>
      <p class="crumbs">
        <a href={href("/deliveries")}>Deliveries</a> › <a href={href(`/endpoints/${endpointId}`)}>{endpointId}</a>
      </p>
      <h1>
        Delivery <span class="mono">{x.id}</span>
      </h1>
      <ErrorBox error={d.error} onRetry={d.reload} />
      <dl class="facts" data-testid="delivery-facts">
        <dt>Status</dt>
        <dd data-testid="delivery-status" data-status={x.status}>
          <StatusBadge status={x.status} /> {x.deadReason ? <span class="muted">({x.deadReason})</span> : null}
        </dd>
        <dt>Event</dt>
        <dd>
          <span class="mono">{x.eventType}</span> · {isAdmin ? <a href={href(`/events/${x.eventId}`)}>{x.eventId}</a> : <span class="mono">{x.eventId}</span>}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={x.createdAt} />
        </dd>
        <dt>Delivered</dt>
        <dd>
          <Time at={x.deliveredAt} />
        </dd>
        <dt>Next attempt</dt>
        <dd>
          <Time at={x.nextAttemptAt} />
        </dd>
        <dt>Idempotency key</dt>
        <dd class="mono">{x.idempotencyKey}</dd>
        <dt>Payload</dt>
        <dd>{x.redaction === null ? "not prepared yet" : `${x.redaction.shape}${x.redaction.removed.length > 0 ? `, removed ${x.redaction.removed.map((r) => r.path).join(", ")}` : ""}`}</dd>
        {x.replayId ? (
          <>
            <dt>Replay</dt>
            <dd class="mono">{x.replayId}</dd>
          </>
        ) : null}
      </dl>
      <div class="actions">
        {canRetry ? (
          <button type="button" class="primary" onClick={() => void retry.go()} disabled={retry.busy} data-testid="retry">
            {retry.busy ? "Retrying…" : "Retry now"}
          </button>
        ) : null}
        {canProofs ? (
          <a class="button" href={href(`/custody/${endpointId}/${deliveryId}`)} data-testid="verify-custody">
            Verify chain of custody
          </a>
        ) : null}
        <button type="button" onClick={() => void body.go()} disabled={body.busy}>
          Download body
        </button>
      </div>
      {retry.result !== undefined ? (
        <p class="notice" role="status" data-testid="retry-done">
          Retry queued: the next attempt goes out within a moment.
        </p>
      ) : null}
      <ErrorBox error={retry.error} />
      <ErrorBox error={body.error} />

      <Section title={`Attempts (${x.attempts.length}${x.sealedAttempts > x.attempts.length ? `, ${x.sealedAttempts - x.attempts.length} in flight` : ""})`} id="attempts">
        {x.attempts.length === 0 ? (
          <p class="muted">No attempt recorded yet{x.status === "pending" ? ": the delivery waits for its first attempt" : ""}. This page refreshes by itself.</p>
        ) : (
          <table class="table" aria-label="Attempts" data-testid="attempts">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Status</th>
                <th scope="col">Outcome</th>
                <th scope="col">Error class</th>
                <th scope="col">Key ids</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {x.attempts.map((a) => (
                <tr key={a.attempt} data-attempt={a.attempt}>
                  <td data-label="#">{a.attempt}</td>
                  <td data-label="Started">
                    <Time at={a.startedAt} />
                  </td>
                  <td data-label="Duration">{a.durationMs} ms</td>
                  <td data-label="Status">{a.statusCode ?? "—"}</td>
                  <td data-label="Outcome">
                    <StatusBadge status={a.outcome === "retry" ? "retrying" : a.outcome} />
                  </td>
                  <td data-label="Error class">{a.errorClass ?? "—"}</td>
                  <td data-label="Key ids" class="mono small">
                    {a.keyIds.join(", ")}
                  </td>
                  <td data-label="Response">
                    <code class="excerpt">{a.responseExcerpt ?? ""}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {useCan("replay") ? (
        <Section title="Replay a time range to this endpoint" id="replay">
          <ReplayForm endpointId={endpointId} around={x.createdAt} />
        </Section>
      ) : null}
      {isAdmin ? (
        <Section title="Recall the event" id="recall">
          <RecallForm eventId={x.eventId} />
        </Section>
      ) : null}
    </div>
  );
}

export function RecallForm({ eventId }: { eventId: string }) {
  const [reason, setReason] = useState("");
  const recall = useAction(() =>
    call<{ noticeEventId: string | null; cancelledDeliveries: number; alreadyRecalled: boolean; recalledAt: string }>("POST", `/api/v2/webhooks/events/${encodeURIComponent(eventId)}/recall`, { body: { reason } }),
  );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void recall.go();
      }}
    >
      <p class="muted">
        A recall is written to the ledger, cancels unsent deliveries of <span class="mono">{eventId}</span>, and sends a <code>.recalled</code> notice to the endpoints that got it.
      </p>
      <Field label="Reason (recorded in the ledger)">
        <input name="reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} required maxLength={1000} />
      </Field>
      <button type="submit" class="danger" disabled={recall.busy || reason.trim() === ""}>
        Recall event
      </button>
      <ErrorBox error={recall.error} />
      {recall.result ? (
        <p class="notice" role="status" data-testid="recall-done">
          {recall.result.alreadyRecalled ? "Already recalled" : "Recalled"} at <Time at={recall.result.recalledAt} />: {recall.result.cancelledDeliveries} deliveries cancelled
          {recall.result.noticeEventId ? `, notice ${recall.result.noticeEventId} queued` : ""}.
        </p>
      ) : null}
    </form>
  );
}
