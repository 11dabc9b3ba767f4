-- Recalls, replays and counter-signed receipts.

-- Events created by the platform together with their deliveries (test events, recall notices) skip fan-out.
ALTER TABLE events ADD COLUMN fan_out boolean NOT NULL DEFAULT true;

CREATE TABLE recalls (
  tenant_id        text NOT NULL,
  event_id         text NOT NULL,
  reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  entry_id         text NOT NULL UNIQUE REFERENCES ledger_entries (id),
  -- The `<type>.recalled` notice sent to the endpoints that received, or were due to receive, the event.
  notice_event_id  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id),
  FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id)
);

CREATE TABLE replays (
  id            text PRIMARY KEY CHECK (id ~ '^rpl_[A-Za-z0-9]{16,40}$'),
  tenant_id     text NOT NULL REFERENCES tenants (id),
  endpoint_id   text NOT NULL REFERENCES endpoints (id),
  from_time     timestamptz NOT NULL,
  to_time       timestamptz NOT NULL,
  event_types   text[],
  only_failed   boolean NOT NULL,
  event_count   integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (from_time < to_time)
);
CREATE INDEX deliveries_replay ON deliveries (replay_id) WHERE replay_id IS NOT NULL;

CREATE TABLE receipts (
  id           text PRIMARY KEY CHECK (id ~ '^rcp_[A-Za-z0-9]{16,40}$'),
  tenant_id    text NOT NULL REFERENCES tenants (id),
  delivery_id  text NOT NULL UNIQUE REFERENCES deliveries (id),
  statement    bytea NOT NULL,
  signature    bytea NOT NULL CHECK (length(signature) = 64),
  received_at  timestamptz NOT NULL,
  -- How the receipt arrived: in the endpoint's 2xx response, or submitted later through the API.
  source       text NOT NULL CHECK (source IN ('response', 'api')),
  entry_id     text NOT NULL UNIQUE REFERENCES ledger_entries (id),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receipts_tenant ON receipts (tenant_id, created_at, id);

CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER recalls_append_only BEFORE UPDATE OR DELETE ON recalls FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();

GRANT SELECT, INSERT ON recalls, replays, receipts TO custody_app;
