-- Evidence format 2 and a pipeline without churned queue tables (docs/ledger.md, proofs/FORMAT.md).
--
-- 1. The sequencer and the relay read new ledger entries in commit-safe order from ledger_entries
--    itself — by (xid, seq), taking only rows whose transaction is older than every transaction still
--    running — instead of from the ledger_pending and outbox work queues, whose insert-then-delete
--    rows bloat wherever vacuum lags.
-- 2. Seals and outcomes are logged as one `seal` / `outcomes` ledger entry per batch; the per-attempt
--    records are the leaves of the batch trees, kept compactly in attempt_seals / attempt_outcomes.
-- 3. deliveries carries its redaction record and fewer indexes, none on the columns an attempt's
--    outcome changes, so the delivered update is a HOT update.
--
-- Format 1 evidence (delivery_bodies, seal_batches, delivery_seals, delivery_attempts) stays as it
-- is: append-only, still served for the deliveries it describes.

-- A delivery sealed under format 1 that is still in flight would continue under format 2 with a
-- chain that has no beginning. Drain the pipeline (or let those deliveries finish) before upgrading.
DO $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM deliveries d
  WHERE d.status IN ('pending', 'delivering', 'retrying') AND EXISTS (SELECT 1 FROM delivery_seals s WHERE s.delivery_id = d.id);
  IF n > 0 THEN
    RAISE EXCEPTION 'MIGRATION_BLOCKED: % deliveries sealed under evidence format 1 are still in flight; start the previous version until they are delivered or dead-lettered, then migrate', n;
  END IF;
END
$$;

-- (1) Commit-safe reading order. Existing rows read xid 0 (a constant default: no table rewrite);
-- new rows get their top-level transaction id.
ALTER TABLE ledger_entries ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE ledger_entries ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX ledger_entries_commit_order ON ledger_entries (xid, seq);
-- New entries are no longer queued; what is still queued is sequenced first (the sequencer drains
-- ledger_pending before it follows the commit order).
DROP TRIGGER ledger_entries_enqueue ON ledger_entries;
DROP FUNCTION custody_enqueue_entry();
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
  CHECK (kind IN ('event', 'custody', 'attempt', 'receipt', 'recall', 'key', 'seal', 'outcomes'));

-- The relay's position in that order: everything up to (xid, seq) has been published. Events still
-- in the old outbox are re-read from the ledger (the first unrelayed one onwards; a re-publish of a
-- relayed event is dropped by JetStream's duplicate window or found done by fan-out).
CREATE TABLE relay_cursor (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  xid         xid8 NOT NULL,
  seq         bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_cursor (xid, seq)
SELECT '0', coalesce(
  (SELECT min(le.seq) - 1 FROM outbox o JOIN ledger_entries le ON le.id = o.entry_id WHERE o.relayed_at IS NULL),
  (SELECT max(seq) FROM ledger_entries),
  0);
DROP TABLE outbox;
DROP FUNCTION custody_outbox_notify();

-- Lets one statement check what its own data-modifying parts did, and undo all of them if not what
-- the caller expected (a statement is atomic): a batch is written in one round trip, and a row made
-- concurrently by another process (ON CONFLICT DO NOTHING) aborts the batch instead of leaving a
-- ledger entry that covers a record nobody stored.
CREATE FUNCTION custody_expect(actual bigint, expected bigint, what text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  IF actual IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'CUSTODY_CONFLICT: % were % rows, expected %', what, actual, expected USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN actual;
END
$$;

-- (2) Seal batches and outcome batches: one ledger entry each; `leaves` holds the leaf hash of every
-- record (32 bytes each, in batch order), so any member's path can be recomputed.
CREATE TABLE custody_batches (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  size        integer NOT NULL CHECK (size BETWEEN 1 AND 4096),
  root        bytea NOT NULL CHECK (length(root) = 32),
  note        text NOT NULL,
  key_id      text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8}$'),
  leaves      bytea NOT NULL,
  entry_id    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (length(leaves) = 32 * size)
);

CREATE TABLE outcome_batches (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  size        integer NOT NULL CHECK (size BETWEEN 1 AND 4096),
  root        bytea NOT NULL CHECK (length(root) = 32),
  leaves      bytea NOT NULL,
  entry_id    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (length(leaves) = 32 * size)
);

-- What an attempt's custody record and headers are rebuilt from (FORMAT.md §6, §7): its four hops
-- (128 bytes: ingested, redacted, prepared, signed), the seal time, the signatures (which cannot be
-- recomputed once a payload is erased), and the key ids that signed it, current first.
-- Written by one owner (libs/deliveries) in the same transaction as its batch and delivery; no
-- foreign keys, whose per-row triggers would cost more than the rows themselves.
CREATE TABLE attempt_seals (
  delivery_id        text NOT NULL,
  attempt_no         integer NOT NULL CHECK (attempt_no >= 1),
  batch_id           bigint NOT NULL,
  batch_index        integer NOT NULL CHECK (batch_index >= 0),
  hops               bytea NOT NULL CHECK (length(hops) = 128),
  sealed_at          bigint NOT NULL CHECK (sealed_at >= 0),
  previous           bytea CHECK (previous IS NULL OR length(previous) = 32),
  webhook_signature  text NOT NULL,
  custody_signature  text NOT NULL,
  key_ids            text[] NOT NULL,
  target_url         text NOT NULL,
  PRIMARY KEY (delivery_id, attempt_no)
);

-- An attempt's outcome (FORMAT.md §9) and what the sender captured.
CREATE TABLE attempt_outcomes (
  delivery_id       text NOT NULL,
  attempt_no        integer NOT NULL,
  tenant_id         text NOT NULL,
  batch_id          bigint NOT NULL,
  batch_index       integer NOT NULL CHECK (batch_index >= 0),
  started_at        timestamptz NOT NULL,
  duration_ms       integer NOT NULL CHECK (duration_ms >= 0),
  status_code       integer,
  error_class       text,
  response_sha256   bytea,
  response_excerpt  text,
  outcome           text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  PRIMARY KEY (delivery_id, attempt_no)
);
CREATE INDEX attempt_outcomes_tenant_time ON attempt_outcomes (tenant_id, started_at);

CREATE TRIGGER custody_batches_append_only BEFORE UPDATE OR DELETE ON custody_batches FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER custody_batches_no_truncate BEFORE TRUNCATE ON custody_batches FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER outcome_batches_append_only BEFORE UPDATE OR DELETE ON outcome_batches FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER outcome_batches_no_truncate BEFORE TRUNCATE ON outcome_batches FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER attempt_seals_append_only BEFORE UPDATE OR DELETE ON attempt_seals FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER attempt_seals_no_truncate BEFORE TRUNCATE ON attempt_seals FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER attempt_outcomes_append_only BEFORE UPDATE OR DELETE ON attempt_outcomes FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER attempt_outcomes_no_truncate BEFORE TRUNCATE ON attempt_outcomes FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();

-- (3) The redaction record (FORMAT.md §5): the shape, and [{path, salt, commitment}] of the fields
-- removed (NULL when none were). With the event it fixes the body; set once, when the delivery is made.
ALTER TABLE deliveries
  ADD COLUMN shape text CHECK (shape IN ('thin', 'fat')),
  ADD COLUMN removed jsonb,
  -- The delivery a replay re-sends (same event, same endpoint).
  ADD COLUMN replay_of text;
ALTER TABLE deliveries SET (fillfactor = 85);

-- One unique index serves fan-out's ON CONFLICT (one delivery per event and target, per replay) and
-- every lookup by event; it replaces three.
CREATE UNIQUE INDEX deliveries_per_target ON deliveries (tenant_id, event_id, (coalesce(endpoint_id, '')), (coalesce(replay_id, '')));
DROP INDEX deliveries_one_per_endpoint;
DROP INDEX deliveries_one_callback;
DROP INDEX deliveries_event;
-- Receivers deduplicate on the key; nothing looks deliveries up by it.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_idempotency_key_key;
-- The scheduler's queue: every delivery with a timer (pending, leased, retrying). Delivered and dead
-- deliveries have none, so the index holds only live work.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- An endpoint's queued deliveries (PATCH /webhooks/{id} refuses a URL change while there are any).
DROP INDEX deliveries_endpoint_status;
CREATE INDEX deliveries_endpoint_queued ON deliveries (endpoint_id) WHERE next_attempt_at IS NOT NULL;

-- Every recorded attempt, whichever evidence format sealed it: what the API shows of a delivery.
-- `custody_root` is stored by format 1; format 2 stores the four `hops` it is computed from.
CREATE VIEW attempt_history AS
  SELECT a.delivery_id, a.attempt_no, a.tenant_id, a.started_at, a.duration_ms, a.status_code, a.response_excerpt, a.error_class,
         a.outcome, a.key_ids, s.custody_root, NULL::bytea AS hops
  FROM delivery_attempts a JOIN delivery_seals s ON s.delivery_id = a.delivery_id AND s.attempt_no = a.attempt_no
  UNION ALL
  SELECT o.delivery_id, o.attempt_no, o.tenant_id, o.started_at, o.duration_ms, o.status_code, o.response_excerpt, o.error_class,
         o.outcome, s.key_ids, NULL::bytea, s.hops
  FROM attempt_outcomes o JOIN attempt_seals s ON s.delivery_id = o.delivery_id AND s.attempt_no = o.attempt_no;

GRANT SELECT, INSERT ON custody_batches, outcome_batches, attempt_seals, attempt_outcomes TO custody_app;
-- An entry's place in the commit-safe order is its transaction's, never the writer's choice: the
-- services may name only these columns (an explicit xid of 0 would hide an entry behind the relay
-- and the sequencer).
REVOKE INSERT ON ledger_entries FROM custody_app;
GRANT INSERT (id, kind, tenant_id, body, leaf_hash) ON ledger_entries TO custody_app;
GRANT SELECT ON attempt_history TO custody_app;
GRANT SELECT, UPDATE ON relay_cursor TO custody_app;
