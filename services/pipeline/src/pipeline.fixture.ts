import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { newId, sql, type Database, type Kysely } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { appendEvents } from "@custody/events";
import { encryptSecret } from "@custody/keys";
import { recallEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createLogger, type Logger } from "@custody/log";
import { generateSigner, type Signer } from "@custody/note";
import type { JsonValue } from "@custody/redact";
import { generateSecret, secretKeyId } from "@custody/signing";
import { createTenant } from "@custody/tenancy";
import { Deliverer } from "./deliver/deliverer.js";
import { OutcomeRecorder } from "./deliver/recorder.js";
import { createSender, type Sender } from "./deliver/sender.js";
import { TargetGate } from "./deliver/target-gate.js";
import { EndpointDirectory } from "./shared/endpoints.js";
import { SecretStore } from "./shared/secrets.js";

export const ORIGIN = "custody.test/log";
export const HOUR = 3_600_000;

export interface Hit {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A receiver whose answer depends on the path: `/ok…` 200, `/busy…` 503 + Retry-After, `/gone…` 410, `/slow…` 200 after 300 ms, `/hang…` never, else 500. */
export class TestReceiver {
  readonly hits: Hit[] = [];
  private server!: Server;
  base = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        this.hits.push({ path, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks) });
        if (path.startsWith("/hang")) return;
        if (path.startsWith("/slow")) setTimeout(() => res.writeHead(200).end("late"), 300);
        else if (path.startsWith("/ok")) res.writeHead(200, { "content-type": "text/plain" }).end("accepted");
        else if (path.startsWith("/busy")) res.writeHead(503, { "retry-after": "2" }).end("busy");
        else if (path.startsWith("/gone")) res.writeHead(410).end("gone");
        else res.writeHead(500).end("oops");
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * A database with one tenant, endpoints and events made the way the API makes them, and the
 * pipeline's delivery parts (directory, secrets, sender, recorder, deliverer) over it: what the
 * dispatch, deliver and scheduler tests run against. No mocks: real Postgres, real HTTP.
 */
export class PipelineFixture {
  t!: TestDatabase;
  tenantId = "";
  readonly masterKey = randomBytes(32);
  readonly signer: Signer = generateSigner(ORIGIN);
  readonly logger: Logger = createLogger({ service: "test", level: "silent", pretty: false });
  readonly receiver = new TestReceiver();
  endpoints!: EndpointDirectory;
  secrets!: SecretStore;
  sender!: Sender;
  recorder!: OutcomeRecorder;
  deliverer!: Deliverer;
  gate!: TargetGate;
  /** The clock the recorder and deliverer read; tests move it. */
  now = new Date();

  async start(): Promise<void> {
    this.t = await createTestDatabase("pipeline");
    this.tenantId = (await createTenant(this.t.db, "Acme")).tenantId;
    await this.receiver.start();
    // Short caches: tests change endpoints and expect the next batch to see it.
    this.endpoints = new EndpointDirectory(this.t.db, 1);
    this.secrets = new SecretStore(this.t.db, this.masterKey, 1);
    this.sender = createSender({ allowLoopback: true, timeoutMs: 3_000, maxInFlight: 64, maxPerEndpoint: 8 });
    const clock = () => this.now;
    this.recorder = new OutcomeRecorder({ db: this.t.db, logger: this.logger, endpoints: this.endpoints, disableAfterMs: 120 * HOUR, now: clock });
    // A target is slow once an exchange has run 100 ms; then it takes at most 4.
    this.gate = new TargetGate({ queue: 4, hardCap: 1_000, slowMs: 100, now: Date.now });
    this.deliverer = new Deliverer({ sender: this.sender, gate: this.gate, recorder: this.recorder, endpoints: this.endpoints, logger: this.logger, disableAfterMs: 120 * HOUR, now: clock, random: () => 0.5 });
  }

  async stop(): Promise<void> {
    await this.recorder.stop();
    await this.sender.close();
    await this.receiver.stop();
    await this.t.drop();
  }

  /** An endpoint with one signing secret; `path` is appended to the receiver's base URL. */
  async endpoint(
    path: string,
    settings: { subscriptions?: string[]; retryPolicy?: unknown; shape?: "thin" | "fat"; fatAckFields?: string[]; failingSince?: Date } = {},
  ): Promise<{ id: string; url: string; secret: string }> {
    const id = newId("wh");
    const url = `${this.receiver.base}${path}`;
    await this.t.db
      .insertInto("endpoints")
      .values({
        id,
        tenant_id: this.tenantId,
        url,
        subscriptions: settings.subscriptions ?? ["*"],
        payload_shape: settings.shape ?? "thin",
        fat_ack_fields: settings.fatAckFields ?? [],
        retry_policy: JSON.stringify(settings.retryPolicy ?? { kind: "default" }),
        rate_limit_per_second: null,
        disabled_at: null,
        disabled_reason: null,
        failing_since: settings.failingSince ?? null,
        receipt_public_key: null,
      })
      .execute();
    const secret = await this.secret(id);
    return { id, url, secret };
  }

  /** A signing secret for an endpoint, or for the tenant's callbacks (null). */
  async secret(endpointId: string | null): Promise<string> {
    const secret = generateSecret();
    const keyId = secretKeyId(secret);
    await this.t.db
      .insertInto("signing_secrets")
      .values({ key_id: keyId, tenant_id: this.tenantId, endpoint_id: endpointId, secret_enc: encryptSecret(this.masterKey, Buffer.from(secret), `signing-secret:${keyId}`), expires_at: null })
      .execute();
    return secret;
  }

  /** Events appended as ingest appends them (in their own transaction, or in `extra.trx`); returns their ids. */
  async events(count: number, type = "order.placed", extra: { callbackUrl?: string | null; fanOut?: boolean; supersedes?: string; data?: (i: number) => JsonValue; trx?: Kysely<Database> } = {}): Promise<string[]> {
    const ids = Array.from({ length: count }, () => newId("evt"));
    const append = (trx: Kysely<Database>) =>
      appendEvents(
        trx,
        this.tenantId,
        ids.map((id, i) => ({
          id,
          type,
          eventTypeId: null,
          data: extra.data?.(i) ?? { n: i, email: `p${i}@example.com` },
          occurredAt: new Date(),
          supersedes: extra.supersedes ?? null,
          metadata: null,
          callbackUrl: extra.callbackUrl ?? null,
          requestHash: randomBytes(32),
          fanOut: extra.fanOut ?? true,
        })),
      );
    await (extra.trx === undefined ? this.t.db.transaction().execute(append) : append(extra.trx));
    return ids;
  }

  /** Records a recall of the event as recallEvent (libs/proof-routes) does, without cancelling or notifying anything. */
  async recall(eventId: string, noticeEventId: string | null = null): Promise<void> {
    await this.t.db.transaction().execute(async (trx) => {
      const [entry] = await appendEntries(trx, [{ tenantId: this.tenantId, document: recallEntry({ tenantId: this.tenantId, eventId, reason: "sent in error", recalledAt: new Date() }) }]);
      await trx.insertInto("recalls").values({ tenant_id: this.tenantId, event_id: eventId, reason: "sent in error", entry_id: entry!.id, notice_event_id: noticeEventId }).execute();
    });
  }

  async delivery(id: string) {
    return this.t.db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  }

  async outcomes(deliveryId: string) {
    return (
      await sql<{ attempt_no: number; outcome: string; status_code: number | null; error_class: string | null }>`
      SELECT attempt_no, outcome, status_code, error_class FROM attempt_outcomes WHERE delivery_id = ${deliveryId} ORDER BY attempt_no`.execute(this.t.db)
    ).rows;
  }
}
