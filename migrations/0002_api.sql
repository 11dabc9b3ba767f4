-- Event types, endpoints and their signing secrets, events, deliveries and idempotency records.

CREATE TABLE event_types (
  id                    text PRIMARY KEY CHECK (id ~ '^ety_[A-Za-z0-9]{16,40}$'),
  tenant_id             text NOT NULL REFERENCES tenants (id),
  name                  text NOT NULL CHECK (length(name) <= 128),
  version               integer NOT NULL CHECK (version >= 1),
  description           text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  -- JSON Schema (draft 2020-12) that `data` must satisfy at ingest, when present.
  data_schema           jsonb,
  -- RFC 6901 pointers into `data`: the fields a thin payload omits.
  personal_data_fields  text[] NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  archived_at           timestamptz,
  UNIQUE (tenant_id, name, version)
);
CREATE INDEX event_types_tenant_name ON event_types (tenant_id, name, version DESC);

CREATE TABLE endpoints (
  id                       text PRIMARY KEY CHECK (id ~ '^wh_[A-Za-z0-9]{16,40}$'),
  tenant_id                text NOT NULL REFERENCES tenants (id),
  url                      text NOT NULL CHECK (length(url) <= 2048),
  display_name             text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
  subscriptions            text[] NOT NULL CHECK (cardinality(subscriptions) BETWEEN 1 AND 100),
  payload_shape            text NOT NULL DEFAULT 'thin' CHECK (payload_shape IN ('thin', 'fat')),
  -- `<eventType>.<field>` pairs the tenant acknowledged when switching to fat payloads.
  fat_ack_fields           text[] NOT NULL DEFAULT '{}',
  counter_signed_receipts  boolean NOT NULL DEFAULT false,
  -- Ed25519 public key the endpoint signs delivery receipts with.
  receipt_public_key       bytea CHECK (receipt_public_key IS NULL OR length(receipt_public_key) = 32),
  retry_policy             jsonb NOT NULL DEFAULT '{"kind":"default"}',
  rate_limit_per_second    integer CHECK (rate_limit_per_second IS NULL OR rate_limit_per_second BETWEEN 1 AND 10000),
  disabled_at              timestamptz,
  disabled_reason          text,
  -- When the current run of failed deliveries began; null while the endpoint is healthy.
  failing_since            timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, created_at, id);

-- Signing secrets of endpoints, and of each tenant's one-shot callback deliveries (endpoint_id NULL).
-- The newest unexpired secret is current; a rotated-out one stays valid until expires_at.
CREATE TABLE signing_secrets (
  key_id       text PRIMARY KEY CHECK (key_id ~ '^whk_[0-9a-f]{16}$'),
  tenant_id    text NOT NULL REFERENCES tenants (id),
  endpoint_id  text REFERENCES endpoints (id),
  secret_enc   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz
);
CREATE INDEX signing_secrets_owner ON signing_secrets (tenant_id, endpoint_id, created_at DESC);

-- Events as producers sent them. The ledger entry commits to the payload by hash, so the payload
-- itself can be erased (retention, right to erasure) without breaking a proof.
CREATE TABLE events (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  id              text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
  type            text NOT NULL,
  event_type_id   text REFERENCES event_types (id),
  -- RFC 8785 canonical JSON of `data`; NULL once erased.
  payload         bytea,
  payload_sha256  bytea NOT NULL CHECK (length(payload_sha256) = 32),
  occurred_at     timestamptz NOT NULL,
  supersedes      text,
  metadata        jsonb,
  callback_url    text CHECK (callback_url IS NULL OR length(callback_url) <= 2048),
  -- SHA-256 of the canonical request, so a retried POST with the same id is recognised.
  request_hash    bytea NOT NULL,
  entry_id        text NOT NULL UNIQUE REFERENCES ledger_entries (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  erased_at       timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK ((payload IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX events_tenant_created ON events (tenant_id, created_at, id);
CREATE INDEX events_tenant_type ON events (tenant_id, type, created_at);

-- One event to one target. The pipeline adds its own columns in a later migration.
CREATE TABLE deliveries (
  id               text PRIMARY KEY CHECK (id ~ '^dlv_[A-Za-z0-9]{16,40}$'),
  tenant_id        text NOT NULL REFERENCES tenants (id),
  event_id         text NOT NULL,
  endpoint_id      text REFERENCES endpoints (id),
  target_url       text NOT NULL,
  -- Stable across retries: receivers deduplicate on it.
  idempotency_key  uuid NOT NULL UNIQUE,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'retrying', 'delivered', 'dead', 'cancelled')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id)
);
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status);
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id);

-- Responses to mutations sent with an Idempotency-Key, replayed when the same key and body come again.
CREATE TABLE idempotency_records (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  scope         text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  bytea NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scope, key)
);

GRANT SELECT, INSERT, UPDATE ON event_types, endpoints, signing_secrets, deliveries TO custody_app;
GRANT SELECT, INSERT ON events TO custody_app;
GRANT UPDATE (payload, erased_at) ON events TO custody_app;
GRANT SELECT, INSERT, DELETE ON idempotency_records TO custody_app;
