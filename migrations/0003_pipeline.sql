-- The delivery pipeline: delivery state, prepared bodies, seals, attempts; outbox wake-ups.

ALTER TABLE deliveries
  ADD COLUMN kind              text NOT NULL DEFAULT 'endpoint' CHECK (kind IN ('endpoint', 'callback')),
  ADD COLUMN replay_id         text,
  -- Attempts sealed so far; attempt numbers start at 1.
  ADD COLUMN attempts          integer NOT NULL DEFAULT 0,
  ADD COLUMN first_attempt_at  timestamptz,
  ADD COLUMN next_attempt_at   timestamptz,
  ADD COLUMN last_delay_ms     bigint,
  ADD COLUMN last_status_code  integer,
  ADD COLUMN last_error        text,
  ADD COLUMN dead_reason       text,
  ADD COLUMN delivered_at      timestamptz,
  ADD CONSTRAINT deliveries_target CHECK ((kind = 'endpoint') = (endpoint_id IS NOT NULL));

-- Fan-out creates one delivery per (event, target); replays create new ones on purpose.
CREATE UNIQUE INDEX deliveries_one_per_endpoint ON deliveries (tenant_id, event_id, endpoint_id) WHERE replay_id IS NULL AND kind = 'endpoint';
CREATE UNIQUE INDEX deliveries_one_callback ON deliveries (tenant_id, event_id) WHERE replay_id IS NULL AND kind = 'callback';
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'retrying';

-- The body a delivery sends (identical for every attempt) and what redaction removed to make it.
-- Written once: a redo after a crash keeps the first salts, so proofs never change under a receiver.
CREATE TABLE delivery_bodies (
  delivery_id  text PRIMARY KEY REFERENCES deliveries (id),
  body         bytea NOT NULL,
  shape        text NOT NULL CHECK (shape IN ('thin', 'fat')),
  -- [{path, salt, commitment}] per removed field (libs/redact)
  removed      jsonb NOT NULL,
  -- SHA-256 of the redacted hop's canonical bytes
  redacted_hop bytea NOT NULL CHECK (length(redacted_hop) = 32),
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- One signature per batch of custody roots (proofs/FORMAT.md §Seal).
CREATE TABLE seal_batches (
  id          text PRIMARY KEY CHECK (id ~ '^seal_[A-Za-z0-9]{16,40}$'),
  size        integer NOT NULL CHECK (size >= 1),
  root        bytea NOT NULL CHECK (length(root) = 32),
  note        text NOT NULL,
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Each attempt's sealed hops, exact headers and custody ledger entry, fixed before it is sent.
CREATE TABLE delivery_seals (
  delivery_id     text NOT NULL REFERENCES deliveries (id),
  attempt_no      integer NOT NULL CHECK (attempt_no >= 1),
  tenant_id       text NOT NULL REFERENCES tenants (id),
  seal_batch_id   text NOT NULL REFERENCES seal_batches (id),
  batch_index     integer NOT NULL,
  custody_root    bytea NOT NULL CHECK (length(custody_root) = 32),
  hops            jsonb NOT NULL,
  headers         jsonb NOT NULL,
  target_url      text NOT NULL,
  custody_entry_id text NOT NULL REFERENCES ledger_entries (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_id, attempt_no)
);

-- Every attempt's outcome, once.
CREATE TABLE delivery_attempts (
  delivery_id       text NOT NULL,
  attempt_no        integer NOT NULL,
  tenant_id         text NOT NULL REFERENCES tenants (id),
  started_at        timestamptz NOT NULL,
  duration_ms       integer NOT NULL CHECK (duration_ms >= 0),
  status_code       integer,
  response_excerpt  text,
  response_sha256   bytea,
  error_class       text,
  key_ids           text[] NOT NULL,
  outcome           text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  attempt_entry_id  text NOT NULL REFERENCES ledger_entries (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_id, attempt_no),
  FOREIGN KEY (delivery_id, attempt_no) REFERENCES delivery_seals (delivery_id, attempt_no)
);
CREATE INDEX delivery_attempts_tenant_time ON delivery_attempts (tenant_id, started_at);

CREATE TRIGGER seal_batches_append_only BEFORE UPDATE OR DELETE ON seal_batches FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER delivery_seals_append_only BEFORE UPDATE OR DELETE ON delivery_seals FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER delivery_attempts_append_only BEFORE UPDATE OR DELETE ON delivery_attempts FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();

-- Wakes the relay as soon as an outbox row commits, instead of waiting for its next poll.
CREATE FUNCTION custody_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('custody_outbox', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION custody_outbox_notify();

GRANT SELECT, INSERT ON delivery_bodies, seal_batches, delivery_seals, delivery_attempts TO custody_app;
