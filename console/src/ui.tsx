import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";

/** Shared pieces: loading data, showing errors with their code, empty states, copy buttons, badges. */

export function errorOf(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, "CONSOLE_ERROR", err instanceof Error ? err.message : String(err));
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === null || error === undefined) return null;
  const e = errorOf(error);
  return (
    <div class="error" role="alert" data-code={e.code}>
      <strong>
        <code>{e.code}</code>
      </strong>{" "}
      {e.message}
      {e.field ? <span class="muted"> (field: {e.field})</span> : null}
      {e.details && Object.keys(e.details).length > 0 ? <pre class="details">{JSON.stringify(e.details, null, 2)}</pre> : null}
      {e.code === "UNAUTHENTICATED" ? <p>Your key or link is no longer valid: sign out and sign in again.</p> : null}
      {onRetry ? (
        <button type="button" class="link" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `deps` change (and on reload); every failure is kept to be shown, never dropped. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], refreshMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctrl.signal).then(
      (data) => !ctrl.signal.aborted && setState({ data, error: null, loading: false }),
      (error: unknown) => !ctrl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctrl.abort();
  }, [...deps, tick]);
  useEffect(() => {
    if (refreshMs === undefined) return;
    const t = setInterval(reload, refreshMs);
    return () => clearInterval(t);
  }, [refreshMs, reload]);
  return { ...state, reload };
}

/** Runs an action, keeping its error and result for display; the button shows it is busy. */
export function useAction<A extends unknown[], T>(run: (...args: A) => Promise<T>) {
  const [state, setState] = useState<{ busy: boolean; error: unknown; result: T | undefined }>({ busy: false, error: null, result: undefined });
  const go = async (...args: A): Promise<T | undefined> => {
    setState({ busy: true, error: null, result: undefined });
    try {
      const result = await run(...args);
      setState({ busy: false, error: null, result });
      return result;
    } catch (error) {
      setState({ busy: false, error, result: undefined });
      return undefined;
    }
  };
  return { ...state, go, clear: () => setState({ busy: false, error: null, result: undefined }) };
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<"" | "copied" | "failed">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone("copied");
    } catch {
      setDone("failed");
    }
  };
  return (
    <span>
      <button type="button" onClick={() => void copy()}>
        {label}
      </button>
      <span class="muted" role="status" aria-live="polite">
        {done === "copied" ? " Copied." : done === "failed" ? " Copy failed: select the text and copy it by hand." : ""}
      </span>
    </span>
  );
}

/** A value shown once (a signing secret, a portal link): selectable, with a copy button. */
export function Secret({ label, value, note }: { label: string; value: string; note: string }) {
  return (
    <section class="secret" aria-label={label}>
      <p>
        <strong>{label}</strong> — {note}
      </p>
      <code class="secret-value" data-testid="secret-value">
        {value}
      </code>{" "}
      <CopyButton text={value} />
    </section>
  );
}

const STATUS_CLASS: Record<string, string> = { delivered: "ok", dead: "bad", cancelled: "muted-badge", retrying: "warn", pending: "info", delivering: "info" };

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge ${STATUS_CLASS[status] ?? ""}`}>{status}</span>;
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" })}
    </time>
  );
}

export function Field({ label, hint, children }: { label: string; hint?: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is `children`, an <input> or <select> the caller passes.
    <label class="field">
      <span class="label">{label}</span>
      {children}
      {hint ? <span class="hint">{hint}</span> : null}
    </label>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="panel" aria-labelledby={id ? `${id}-h` : undefined} id={id}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

export function download(name: string, bytes: Uint8Array | string, type = "application/json"): void {
  const blob = new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** `datetime-local` value ↔ RFC 3339 in the browser's time zone. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function useTitle(title: string): void {
  const first = useRef(true);
  useEffect(() => {
    document.title = `${title} · Custody`;
    first.current = false;
  }, [title]);
}
