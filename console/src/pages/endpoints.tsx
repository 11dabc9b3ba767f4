import { useState } from "preact/hooks";
import { call, get, newIdempotencyKey, type Endpoint, type Page } from "../api";
import { href } from "../router";
import { useCan } from "../session";
import { Empty, ErrorBox, Field, Loading, Secret, Section, Time, useAction, useAsync, useTitle } from "../ui";
import { ReplayForm } from "./replay";

const POLICIES = [
  ["default", "Default: ~30 s doubling with jitter, for about 3 days"],
  ["exponential", "Exponential: immediately, then 1, 2, 4, 8 s"],
  ["jittered", "Jittered: decorrelated jitter, 3 retries"],
  ["callback", "Callback: 3, 9, 27, 81, 243, 729 min"],
  ["custom", "Custom delays"],
] as const;

const lines = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== "");

function retryPolicyBody(kind: string, delays: string): Record<string, unknown> {
  return kind === "custom" ? { kind, delaysSeconds: lines(delays).map(Number) } : { kind };
}

export function EndpointsPage() {
  useTitle("Endpoints");
  const list = useAsync((signal) => get<Page<Endpoint>>("/api/v2/webhooks", { limit: "100" }, signal), []);
  const admin = useCan("admin");
  const rows = list.data?.data ?? [];
  return (
    <div>
      <h1>Endpoints</h1>
      {admin ? (
        <p>
          <a class="button primary" href={href("/endpoints/new")}>
            New endpoint
          </a>
        </p>
      ) : null}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data === undefined && !list.error ? <Loading what="endpoints" /> : null}
      {list.data !== undefined && rows.length === 0 ? (
        <Empty>
          <p>{admin ? "No endpoints yet. Create one to start receiving events: you get its signing secret once, when it is created." : "This link shows no endpoint."}</p>
        </Empty>
      ) : null}
      {rows.length > 0 ? (
        <table class="table" aria-label="Endpoints" data-testid="endpoints">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Subscriptions</th>
              <th scope="col">Payload</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-endpoint={e.id}>
                <td data-label="Endpoint">
                  <a href={href(`/endpoints/${e.id}`)}>{e.displayName || e.url}</a>
                  <br />
                  <span class="muted small mono">{e.url}</span>
                </td>
                <td data-label="Subscriptions" class="mono small">
                  {e.subscriptions.join(", ")}
                </td>
                <td data-label="Payload">{e.defaultPayloadShape}</td>
                <td data-label="State">{e.disabled ? <span class="badge bad">disabled</span> : <span class="badge ok">enabled</span>}</td>
                <td data-label="Created">
                  <Time at={e.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function NewEndpointPage() {
  useTitle("New endpoint");
  const [form, setForm] = useState({ url: "", displayName: "", subscriptions: "*.final, *.retracted, *.recalled", policy: "default", delays: "10, 60, 300", rateLimit: "" });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const create = useAction(() =>
    call<Endpoint & { secret: string }>("POST", "/api/v2/webhooks", {
      idempotencyKey: newIdempotencyKey(),
      body: {
        url: form.url.trim(),
        displayName: form.displayName,
        subscriptions: lines(form.subscriptions),
        retryPolicy: retryPolicyBody(form.policy, form.delays),
        ...(form.rateLimit.trim() === "" ? {} : { rateLimit: Number(form.rateLimit) }),
      },
    }),
  );
  if (create.result) {
    const e = create.result;
    return (
      <div>
        <h1>Endpoint created</h1>
        <Secret label="Signing secret" value={e.secret} note="copy it now: it is shown only this once. Your receiver verifies every delivery's signature with it." />
        <p>
          <a class="button primary" href={href(`/endpoints/${e.id}`)} data-testid="open-endpoint">
            Open {e.displayName || e.url}
          </a>
        </p>
      </div>
    );
  }
  return (
    <div>
      <p class="crumbs">
        <a href={href("/endpoints")}>Endpoints</a>
      </p>
      <h1>New endpoint</h1>
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault();
          void create.go();
        }}
      >
        <Field label="URL" hint="HTTPS, resolving to public addresses only (npm start also allows http://127.0.0.1).">
          <input name="url" type="url" required value={form.url} onInput={set("url")} placeholder="https://example.com/webhooks" />
        </Field>
        <Field label="Name">
          <input name="displayName" value={form.displayName} onInput={set("displayName")} maxLength={200} />
        </Field>
        <Field label="Subscriptions" hint="Event types or patterns, comma- or space-separated; * matches any run of characters.">
          <input name="subscriptions" value={form.subscriptions} onInput={set("subscriptions")} required />
        </Field>
        <RetryPolicyFields policy={form.policy} delays={form.delays} onPolicy={set("policy")} onDelays={set("delays")} />
        <Field label="Rate limit (deliveries per second)" hint="Empty: no limit of its own.">
          <input name="rateLimit" type="number" min={1} max={10000} value={form.rateLimit} onInput={set("rateLimit")} />
        </Field>
        <button type="submit" class="primary" disabled={create.busy}>
          Create endpoint
        </button>
        <ErrorBox error={create.error} />
      </form>
    </div>
  );
}

function RetryPolicyFields({ policy, delays, onPolicy, onDelays }: { policy: string; delays: string; onPolicy: (e: Event) => void; onDelays: (e: Event) => void }) {
  return (
    <>
      <Field label="Retry policy">
        <select name="retryPolicy" value={policy} onChange={onPolicy}>
          {POLICIES.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      {policy === "custom" ? (
        <Field label="Delays before each retry, in seconds" hint="1 to 50 delays of 0 to 604,800 s.">
          <input name="delays" value={delays} onInput={onDelays} />
        </Field>
      ) : null}
    </>
  );
}

export function EndpointPage({ id }: { id: string }) {
  const path = `/api/v2/webhooks/${encodeURIComponent(id)}`;
  const ep = useAsync((signal) => get<Endpoint>(path, undefined, signal), [id]);
  useTitle(ep.data ? `Endpoint ${ep.data.displayName || ep.data.url}` : "Endpoint");
  const admin = useCan("admin");
  const canShape = useCan("payloadShape");
  const canRotate = useCan("rotateSecret");
  const canReplay = useCan("replay");
  if (ep.data === undefined) return ep.error ? <ErrorBox error={ep.error} onRetry={ep.reload} /> : <Loading what="the endpoint" />;
  const e = ep.data;
  return (
    <div>
      <p class="crumbs">
        <a href={href("/endpoints")}>Endpoints</a>
      </p>
      <h1>{e.displayName || e.url}</h1>
      <dl class="facts">
        <dt>Id</dt>
        <dd class="mono">{e.id}</dd>
        <dt>URL</dt>
        <dd class="mono">{e.url}</dd>
        <dt>State</dt>
        <dd data-testid="endpoint-state">{e.disabled ? `disabled (${e.disabledReason ?? "no reason"})` : "enabled"}</dd>
        <dt>Payload</dt>
        <dd data-testid="payload-shape">{e.defaultPayloadShape}</dd>
        <dt>Retry policy</dt>
        <dd>
          {e.retryPolicy.kind}, {e.retryPolicy.maxAttempts} attempts
        </dd>
        <dt>Rate limit</dt>
        <dd>{e.rateLimit === null ? "none" : `${e.rateLimit}/s`}</dd>
      </dl>
      <p>
        <a class="button" href={href("/deliveries", { endpoint: e.id })}>
          This endpoint's deliveries
        </a>
      </p>
      {admin ? <TestEvent endpointId={e.id} /> : null}
      {admin ? <Settings endpoint={e} onSaved={ep.reload} /> : null}
      {canShape ? <PayloadShape endpoint={e} onSaved={ep.reload} /> : null}
      {canRotate ? <Secrets endpoint={e} onSaved={ep.reload} /> : null}
      {canReplay ? (
        <Section title="Replay" id="replay">
          <ReplayForm endpointId={e.id} />
        </Section>
      ) : null}
      {admin ? <PortalLinks endpointId={e.id} /> : null}
    </div>
  );
}

function TestEvent({ endpointId }: { endpointId: string }) {
  const send = useAction(() => call<{ eventId: string; deliveryId: string }>("POST", `/api/v2/webhooks/${encodeURIComponent(endpointId)}/test-events`, { idempotencyKey: newIdempotencyKey() }));
  return (
    <Section title="Test event" id="test-event">
      <p class="muted">
        Sends a <code>webhook.test</code> event to this endpoint only, through the whole pipeline: ledger, seal, signatures, retries.
      </p>
      <button type="button" onClick={() => void send.go()} disabled={send.busy} data-testid="send-test-event">
        Send test event
      </button>
      <ErrorBox error={send.error} />
      {send.result ? (
        <p class="notice" role="status">
          Queued event <span class="mono">{send.result.eventId}</span>.{" "}
          <a href={href(`/deliveries/${endpointId}/${send.result.deliveryId}`)} data-testid="test-delivery">
            Watch its delivery
          </a>
        </p>
      ) : null}
    </Section>
  );
}

function Settings({ endpoint: e, onSaved }: { endpoint: Endpoint; onSaved: () => void }) {
  const [form, setForm] = useState({
    url: e.url,
    displayName: e.displayName,
    subscriptions: e.subscriptions.join(", "),
    policy: e.retryPolicy.kind,
    delays: e.retryPolicy.delaysSeconds.join(", "),
    rateLimit: e.rateLimit === null ? "" : String(e.rateLimit),
  });
  const set = (k: keyof typeof form) => (ev: Event) => setForm({ ...form, [k]: (ev.target as HTMLInputElement).value });
  const path = `/api/v2/webhooks/${encodeURIComponent(e.id)}`;
  const save = useAction(async (acknowledgePending: boolean) => {
    const body: Record<string, unknown> = {};
    if (form.url !== e.url) body.url = form.url.trim();
    if (form.displayName !== e.displayName) body.displayName = form.displayName;
    const subs = lines(form.subscriptions);
    if (subs.join(",") !== e.subscriptions.join(",")) body.subscriptions = subs;
    if (form.policy !== e.retryPolicy.kind || (form.policy === "custom" && form.delays !== e.retryPolicy.delaysSeconds.join(", "))) body.retryPolicy = retryPolicyBody(form.policy, form.delays);
    const rate = form.rateLimit.trim() === "" ? null : Number(form.rateLimit);
    if (rate !== e.rateLimit) body.rateLimit = rate;
    const r = await call<Endpoint>("PATCH", path, { body, query: acknowledgePending ? { acknowledgePending: "true" } : undefined, idempotencyKey: newIdempotencyKey() });
    onSaved();
    return r;
  });
  const toggle = useAction(async () => {
    const r = await call<Endpoint>("PATCH", path, { body: { disabled: !e.disabled }, idempotencyKey: newIdempotencyKey() });
    onSaved();
    return r;
  });
  const pending = save.error && (save.error as { code?: string }).code === "PENDING_DELIVERIES";
  return (
    <Section title="Settings" id="settings">
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void save.go(false);
        }}
      >
        <Field label="URL">
          <input name="url" type="url" value={form.url} onInput={set("url")} required />
        </Field>
        <Field label="Name">
          <input name="displayName" value={form.displayName} onInput={set("displayName")} />
        </Field>
        <Field label="Subscriptions" hint="Comma- or space-separated patterns.">
          <input name="subscriptions" value={form.subscriptions} onInput={set("subscriptions")} required />
        </Field>
        <RetryPolicyFields policy={form.policy} delays={form.delays} onPolicy={set("policy")} onDelays={set("delays")} />
        <Field label="Rate limit (deliveries per second)" hint="Empty: no limit of its own.">
          <input name="rateLimit" type="number" min={1} max={10000} value={form.rateLimit} onInput={set("rateLimit")} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={save.busy}>
            Save
          </button>
          {pending ? (
            <button type="button" onClick={() => void save.go(true)}>
              Save and retarget queued deliveries
            </button>
          ) : null}
        </div>
        <ErrorBox error={save.error} />
        {save.result ? (
          <p class="notice" role="status">
            Saved.
          </p>
        ) : null}
      </form>
      <h3>{e.disabled ? "Disabled" : "Enabled"}</h3>
      <p class="muted">{e.disabled ? "Nothing is delivered to a disabled endpoint." : "Disabling stops every delivery to this endpoint until it is enabled again."}</p>
      <button type="button" class={e.disabled ? "primary" : "danger"} onClick={() => void toggle.go()} disabled={toggle.busy} data-testid="toggle-disabled">
        {e.disabled ? "Enable endpoint" : "Disable endpoint"}
      </button>
      <ErrorBox error={toggle.error} />
    </Section>
  );
}

function PayloadShape({ endpoint: e, onSaved }: { endpoint: Endpoint; onSaved: () => void }) {
  const path = `/api/v2/webhooks/${encodeURIComponent(e.id)}`;
  const ack = useAsync((signal) => get<{ required: string[]; acknowledged: string[] }>(`${path}/fat-acknowledgement`, undefined, signal), [e.id, e.defaultPayloadShape, e.subscriptions.join(",")]);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const change = useAction(async (shape: "thin" | "fat") => {
    const body = shape === "fat" ? { defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: [...checked] } } : { defaultPayloadShape: "thin" };
    const r = await call<Endpoint>("PATCH", path, { body, idempotencyKey: newIdempotencyKey() });
    onSaved();
    return r;
  });
  const required = ack.data?.required ?? [];
  const all = required.every((f) => checked.has(f));
  return (
    <Section title="Payload shape" id="payload-shape">
      {e.defaultPayloadShape === "fat" ? (
        <>
          <p>
            This endpoint gets <strong>fat</strong> payloads: the personal-data fields below are delivered.
          </p>
          <ul class="mono small">
            {e.fatEventsAcknowledgment.fieldsAcknowledged.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
          <button type="button" onClick={() => void change.go("thin")} disabled={change.busy}>
            Switch to thin
          </button>
        </>
      ) : (
        <>
          <p>
            This endpoint gets <strong>thin</strong> payloads: every personal-data field is removed. Switching to fat delivers them, once you acknowledge each field its subscriptions would deliver.
          </p>
          <ErrorBox error={ack.error} onRetry={ack.reload} />
          {ack.data !== undefined ? (
            <fieldset>
              <legend>Fields to acknowledge ({required.length})</legend>
              {required.length === 0 ? <p class="muted">Its subscriptions deliver no personal-data field: nothing to acknowledge.</p> : null}
              {required.map((f) => (
                <label class="check" key={f}>
                  <input type="checkbox" name="ack" value={f} checked={checked.has(f)} onChange={(ev) => setChecked(toggled(checked, f, (ev.target as HTMLInputElement).checked))} /> <span class="mono">{f}</span>
                </label>
              ))}
            </fieldset>
          ) : null}
          <button type="button" class="primary" disabled={change.busy || ack.data === undefined || !all} onClick={() => void change.go("fat")} data-testid="switch-fat">
            Switch to fat
          </button>
          {!all ? <span class="muted small"> Tick every field to switch.</span> : null}
        </>
      )}
      <ErrorBox error={change.error} />
    </Section>
  );
}

function Secrets({ endpoint: e, onSaved }: { endpoint: Endpoint; onSaved: () => void }) {
  const path = `/api/v2/webhooks/${encodeURIComponent(e.id)}`;
  const rotate = useAction(async () => {
    const r = await call<{ secret: string }>("POST", `${path}/rotate-secret`, { idempotencyKey: newIdempotencyKey() });
    onSaved();
    return r;
  });
  const revoke = useAction(async () => {
    const r = await call("POST", `${path}/revoke-previous-secret`, { idempotencyKey: newIdempotencyKey() });
    onSaved();
    return r;
  });
  const s = e.secretStatus;
  return (
    <Section title="Signing secret" id="secret">
      <dl class="facts">
        <dt>Current</dt>
        <dd class="mono">
          {s.currentKeyId} (since <Time at={s.createdAt} />)
        </dd>
        <dt>Previous</dt>
        <dd class="mono">
          {s.previousKeyId ? (
            <>
              {s.previousKeyId}, valid until <Time at={s.previousValidUntil} />
            </>
          ) : (
            "none"
          )}
        </dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={() => void rotate.go()} disabled={rotate.busy} data-testid="rotate-secret">
          Rotate secret
        </button>
        {s.previousKeyId ? (
          <button type="button" class="danger" onClick={() => void revoke.go()} disabled={revoke.busy}>
            Revoke previous secret now
          </button>
        ) : null}
      </div>
      {rotate.result ? <Secret label="New signing secret" value={rotate.result.secret} note="copy it now: it is shown only this once. The previous one stays valid during the overlap." /> : null}
      <ErrorBox error={rotate.error} />
      <ErrorBox error={revoke.error} />
    </Section>
  );
}

interface PortalLink {
  id: string;
  endpointIds: string[];
  capabilities: string[];
  expiresAt: string;
  url?: string | null;
}

const CAPABILITIES = [
  ["retry", "Retry deliveries"],
  ["replay", "Replay a time range"],
  ["rotateSecret", "Rotate the signing secret"],
  ["payloadShape", "Switch thin/fat"],
  ["proofs", "Download and verify proofs"],
] as const;

function PortalLinks({ endpointId }: { endpointId: string }) {
  const list = useAsync((signal) => get<{ data: PortalLink[] }>("/api/v2/portal-sessions", { limit: "100" }, signal), [endpointId]);
  const [caps, setCaps] = useState<Set<string>>(new Set(CAPABILITIES.map(([c]) => c)));
  const [hours, setHours] = useState("1");
  const create = useAction(async () => {
    const r = await call<PortalLink>("POST", "/api/v2/portal-sessions", {
      body: { endpointIds: [endpointId], capabilities: [...caps], expiresInSeconds: Math.round(Number(hours) * 3600) },
      idempotencyKey: newIdempotencyKey(),
    });
    list.reload();
    return r;
  });
  const revoke = useAction(async (id: string) => {
    await call("DELETE", `/api/v2/portal-sessions/${encodeURIComponent(id)}`);
    list.reload();
    return id;
  });
  const mine = (list.data?.data ?? []).filter((l) => l.endpointIds.includes(endpointId));
  return (
    <Section title="Portal links" id="portal">
      <p class="muted">A link for the owner of this endpoint: they see only this endpoint, its deliveries and attempts, and can do what you allow below. Revocable at any time.</p>
      <fieldset>
        <legend>Allow</legend>
        {CAPABILITIES.map(([c, label]) => (
          <label class="check" key={c}>
            <input type="checkbox" name="capability" value={c} checked={caps.has(c)} onChange={(ev) => setCaps(toggled(caps, c, (ev.target as HTMLInputElement).checked))} /> {label}
          </label>
        ))}
      </fieldset>
      <Field label="Valid for (hours)" hint="Up to 168 (7 days).">
        <input name="hours" type="number" min={0.1} max={168} step={0.1} value={hours} onInput={(ev) => setHours((ev.target as HTMLInputElement).value)} />
      </Field>
      <button type="button" onClick={() => void create.go()} disabled={create.busy} data-testid="create-portal-link">
        Create portal link
      </button>
      <ErrorBox error={create.error} />
      {create.result?.url ? <Secret label="Portal link" value={create.result.url} note="hand it to the endpoint's owner; it is shown only this once." /> : null}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {mine.length > 0 ? (
        <table class="table" aria-label="Active portal links">
          <thead>
            <tr>
              <th scope="col">Link</th>
              <th scope="col">Allows</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {mine.map((l) => (
              <tr key={l.id}>
                <td data-label="Link" class="mono small">
                  {l.id}
                </td>
                <td data-label="Allows">{l.capabilities.join(", ") || "reading only"}</td>
                <td data-label="Expires">
                  <Time at={l.expiresAt} />
                </td>
                <td>
                  <button type="button" class="danger" onClick={() => void revoke.go(l.id)} disabled={revoke.busy}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ErrorBox error={revoke.error} />
    </Section>
  );
}

/** `set` with `value` in it or not, as a checkbox of it says: a new Set, so state updates see a change. */
function toggled<T>(set: ReadonlySet<T>, value: T, on: boolean): Set<T> {
  const next = new Set(set);
  if (on) next.add(value);
  else next.delete(value);
  return next;
}
