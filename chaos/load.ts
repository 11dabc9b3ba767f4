/**
 * Open-loop load: single events POSTed at a steady rate, each with its own producer id, so that a
 * request that was refused (503, 429) or never answered (the API killed, connection refused) is sent
 * again, with the same id, after Retry-After (or 1 s): a retry of an event that did commit is
 * answered as the first time, so nothing is stored twice and every event is accepted in the end.
 * Every answer is kept with its time, status, error code and Retry-After.
 */
import { Agent, request } from "undici";

export interface Answer {
  at: number;
  /** null: no answer (connection refused or reset, timeout). */
  status: number | null;
  code?: string;
  retryAfter?: string;
  error?: string;
}

export interface SentEvent {
  id: string;
  type: string;
  /** When it was first POSTed (ms since the epoch). */
  firstSentAt: number;
  /** When it was accepted (201, or 200 for a replay of one that committed). */
  acceptedAt?: number;
  /** POSTs it took. */
  tries: number;
}

export interface LoadOptions {
  origin: string;
  apiKey: string;
  /** Event ids are `<idPrefix>-<n>`. */
  idPrefix: string;
  /** One event type, or one per event chosen by its number. */
  type: string | ((n: number) => string);
  ratePerSecond: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Load {
  readonly events: SentEvent[] = [];
  readonly answers: Answer[] = [];
  /** Answers that are neither accepted nor a reason to retry (a 4xx other than 429): a client bug, or a platform one. */
  readonly refused: Array<{ id: string; status: number; body: string }> = [];
  private readonly agent = new Agent({ connections: 64, headersTimeout: 30_000, bodyTimeout: 30_000, keepAliveTimeout: 10_000 });
  private running = false;
  private ticker: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private n = 0;

  constructor(private readonly o: LoadOptions) {}

  start(): void {
    this.running = true;
    this.ticker = this.tick();
  }

  private async tick(): Promise<void> {
    const t0 = performance.now();
    let sent = 0;
    while (this.running) {
      const due = Math.floor(((performance.now() - t0) / 1000) * this.o.ratePerSecond) + 1;
      while (sent < due && this.running) {
        sent++;
        this.send(this.next());
      }
      await sleep(Math.max(1, 1000 / this.o.ratePerSecond / 2));
    }
  }

  /** Sends `count` events at once (outside the steady rate). */
  burst(count: number, type?: string): SentEvent[] {
    return Array.from({ length: count }, () => {
      const e = this.next(type);
      this.send(e);
      return e;
    });
  }

  private next(type?: string): SentEvent {
    const n = this.n++;
    const e: SentEvent = { id: `${this.o.idPrefix}-${n}`, type: type ?? (typeof this.o.type === "string" ? this.o.type : this.o.type(n)), firstSentAt: Date.now(), tries: 0 };
    this.events.push(e);
    return e;
  }

  private send(e: SentEvent): void {
    const p = this.post(e).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async post(e: SentEvent): Promise<void> {
    const body = JSON.stringify({ id: e.id, type: e.type, data: { n: e.id, at: e.firstSentAt, note: "chaos" } });
    for (;;) {
      e.tries++;
      let answer: Answer;
      let text = "";
      try {
        const res = await request(`${this.o.origin}/api/v2/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${this.o.apiKey}`, "content-type": "application/json" },
          body,
          dispatcher: this.agent,
        });
        text = await res.body.text();
        answer = { at: Date.now(), status: res.statusCode };
        const retryAfter = res.headers["retry-after"];
        if (typeof retryAfter === "string") answer.retryAfter = retryAfter;
        if (res.statusCode >= 400) answer.code = errorCode(text);
      } catch (err) {
        answer = { at: Date.now(), status: null, error: (err as { code?: string }).code ?? (err as Error).message };
      }
      this.answers.push(answer);
      if (answer.status === 200 || answer.status === 201) {
        e.acceptedAt = answer.at;
        return;
      }
      if (answer.status !== null && answer.status !== 429 && answer.status < 500) {
        this.refused.push({ id: e.id, status: answer.status, body: text.slice(0, 300) });
        return;
      }
      // A client keeps trying until its event is in: refused for now (503, 429), not answered, or a 5xx.
      const wait = answer.retryAfter !== undefined && /^\d+$/.test(answer.retryAfter) ? Number(answer.retryAfter) * 1000 : 1000;
      await sleep(Math.min(wait, 5_000));
    }
  }

  /** Stops sending new events (retries of earlier ones go on). */
  stop(): void {
    this.running = false;
  }

  /** Stops, then waits until every event sent is accepted or refused; false if some are still being retried at the deadline. */
  async settle(timeoutMs: number): Promise<boolean> {
    this.stop();
    await this.ticker;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  accepted(): SentEvent[] {
    return this.events.filter((e) => e.acceptedAt !== undefined);
  }

  pending(): number {
    return this.inFlight.size;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
