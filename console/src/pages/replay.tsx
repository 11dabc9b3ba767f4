import { useState } from "preact/hooks";
import { call, get } from "../api";
import { ErrorBox, Field, fromLocalInput, toLocalInput, useAction, useAsync } from "../ui";

interface Replay {
  id: string;
  eventCount: number;
  progress: Record<string, number>;
}

export function ReplayForm({ endpointId, around }: { endpointId: string; around?: string }) {
  const start = around ? new Date(new Date(around).getTime() - 60_000).toISOString() : new Date(Date.now() - 3600_000).toISOString();
  const [from, setFrom] = useState(start);
  const [to, setTo] = useState(new Date(Date.now() + 60_000).toISOString());
  const [onlyFailed, setOnlyFailed] = useState(false);
  const replay = useAction(() => call<Replay>("POST", `/api/v2/webhooks/${encodeURIComponent(endpointId)}/replays`, { body: { from, to, onlyFailed } }));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void replay.go();
      }}
    >
      <p class="muted">Re-sends the events of the range this endpoint subscribes to as new deliveries (same webhook-id, new Idempotency-Key, own custody record).</p>
      <div class="row">
        <Field label="From">
          <input type="datetime-local" name="replayFrom" value={toLocalInput(from)} onInput={(e) => setFrom(fromLocalInput((e.target as HTMLInputElement).value) ?? from)} required />
        </Field>
        <Field label="To">
          <input type="datetime-local" name="replayTo" value={toLocalInput(to)} onInput={(e) => setTo(fromLocalInput((e.target as HTMLInputElement).value) ?? to)} required />
        </Field>
      </div>
      <label class="check">
        <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed((e.target as HTMLInputElement).checked)} /> Only events whose delivery was dead-lettered
      </label>
      <div class="actions">
        <button type="submit" disabled={replay.busy} data-testid="replay">
          Replay range
        </button>
      </div>
      <ErrorBox error={replay.error} />
      {replay.result ? <ReplayProgress endpointId={endpointId} replay={replay.result} /> : null}
    </form>
  );
}

function ReplayProgress({ endpointId, replay }: { endpointId: string; replay: Replay }) {
  const r = useAsync((signal) => get<Replay>(`/api/v2/webhooks/${encodeURIComponent(endpointId)}/replays/${replay.id}`, undefined, signal), [replay.id], 1_500);
  const now = r.data ?? replay;
  const done = (now.progress.delivered ?? 0) + (now.progress.dead ?? 0) + (now.progress.cancelled ?? 0);
  return (
    <p class="notice" role="status" data-testid="replay-progress" data-done={String(done === now.eventCount)}>
      Replay <span class="mono">{now.id}</span>: {now.eventCount} events; {done} settled (
      {Object.entries(now.progress)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(", ") || "queued"}
      ).
      <ErrorBox error={r.error} />
    </p>
  );
}
