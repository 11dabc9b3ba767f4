-- Tenants, API keys, the append-only ledger and its Merkle tree, checkpoints, platform keys, and the outbox.
-- Landed migrations are never edited: the migrator records a checksum per file and refuses to run if one changed.

-- The role the services use in production. It may read and append the ledger, never rewrite it.
-- Roles are cluster-wide and test runs migrate many databases at once, so creation tolerates a race.
DO $$
BEGIN
  CREATE ROLE custody_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^ten_[A-Za-z0-9]{16,40}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            text PRIMARY KEY CHECK (id ~ '^key_[A-Za-z0-9]{16,40}$'),
  tenant_id     text NOT NULL REFERENCES tenants (id),
  name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  environment   text NOT NULL CHECK (environment IN ('live', 'test')),
  -- The first characters of the key, shown in listings so a person can tell keys apart.
  prefix        text NOT NULL,
  -- SHA-256 of the whole key string. The key itself is shown once and never stored.
  key_hash      bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['admin', 'publish', 'read']::text[] AND cardinality(scopes) > 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Every statement that would rewrite history fails, whoever runs it. A superuser can disable the
-- trigger; that is what `custody audit` and the signed checkpoints exist to catch.
CREATE FUNCTION custody_reject_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'LEDGER_APPEND_ONLY: % on % is not allowed; the ledger is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The entries, as appended. A row is never changed: its position in the log lives in ledger_leaves.
CREATE TABLE ledger_entries (
  id          text PRIMARY KEY CHECK (id ~ '^ent_[A-Za-z0-9]{16,40}$'),
  -- Insertion order; the sequencer takes pending entries in this order.
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind        text NOT NULL CHECK (kind IN ('event', 'custody', 'attempt', 'receipt', 'recall', 'key')),
  tenant_id   text REFERENCES tenants (id),
  body        bytea NOT NULL CHECK (length(body) BETWEEN 1 AND 65536),
  -- RFC 9162 leaf hash. Postgres recomputes it, so a writer cannot store a hash that disagrees with the bytes.
  leaf_hash   bytea NOT NULL CONSTRAINT leaf_hash_matches_body CHECK (leaf_hash = sha256('\x00'::bytea || body)),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_tenant ON ledger_entries (tenant_id, seq);

-- Entries not yet given a leaf index. A work queue, not part of the ledger: rows leave it when sequenced.
CREATE TABLE ledger_pending (
  seq       bigint PRIMARY KEY,
  entry_id  text NOT NULL UNIQUE REFERENCES ledger_entries (id)
);

CREATE FUNCTION custody_enqueue_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_pending (seq, entry_id) VALUES (NEW.seq, NEW.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER ledger_entries_enqueue AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION custody_enqueue_entry();

-- Dense, gapless leaf indexes assigned by the single active sequencer.
CREATE TABLE ledger_leaves (
  leaf_index   bigint PRIMARY KEY CHECK (leaf_index >= 0),
  entry_id     text NOT NULL UNIQUE REFERENCES ledger_entries (id),
  sequenced_at timestamptz NOT NULL DEFAULT now()
);

-- Every perfect subtree of the ledger's Merkle tree: node (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Once written a node never changes, and any inclusion or
-- consistency proof, or any root, is a fold of O(log n) of them (libs/merkle `*Plan`).
CREATE TABLE ledger_tree_nodes (
  level  smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
  idx    bigint NOT NULL CHECK (idx >= 0),
  hash   bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- Every checkpoint (signed tree head) the platform ever signed, as the exact C2SP signed-note text.
CREATE TABLE ledger_checkpoints (
  tree_size   bigint PRIMARY KEY CHECK (tree_size >= 0),
  root_hash   bytea NOT NULL CHECK (length(root_hash) = 32),
  note        text NOT NULL,
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The compare-and-swap row: the tree the sequencer has committed, and the newest checkpoint.
-- Every writer updates it with `WHERE tree_size = <what it read>`, so two sequencers can never both extend the tree.
CREATE TABLE ledger_head (
  singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  tree_size        bigint NOT NULL CHECK (tree_size >= 0),
  root_hash        bytea NOT NULL CHECK (length(root_hash) = 32),
  checkpoint_size  bigint NOT NULL CHECK (checkpoint_size >= 0 AND checkpoint_size <= tree_size),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The empty tree: RFC 9162's MTH of no leaves is SHA-256 of the empty string.
INSERT INTO ledger_head (tree_size, root_hash, checkpoint_size) VALUES (0, sha256(''::bytea), 0);

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_leaves_append_only BEFORE UPDATE OR DELETE ON ledger_leaves FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_leaves_no_truncate BEFORE TRUNCATE ON ledger_leaves FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_tree_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_tree_nodes FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_tree_nodes_no_truncate BEFORE TRUNCATE ON ledger_tree_nodes FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints FOR EACH ROW EXECUTE FUNCTION custody_reject_rewrite();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION custody_reject_rewrite();

-- Ed25519 platform keys. The private half is AES-256-GCM encrypted under the master key.
-- Retired keys stay so that old checkpoints and custody roots still verify.
CREATE TABLE platform_keys (
  key_id           text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{8}$'),
  name             text NOT NULL,
  public_key       bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
  private_key_enc  bytea NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  retired_at       timestamptz
);
-- At most one active key at a time.
CREATE UNIQUE INDEX platform_keys_one_active ON platform_keys ((true)) WHERE retired_at IS NULL;

-- Committed in the same transaction as the ledger entry it announces; the relay moves it to JetStream.
CREATE TABLE outbox (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry_id    text NOT NULL REFERENCES ledger_entries (id),
  subject     text NOT NULL,
  payload     bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  relayed_at  timestamptz
);
CREATE INDEX outbox_unrelayed ON outbox (seq) WHERE relayed_at IS NULL;

-- Production grants: the services connect as a login role that is a member of custody_app.
GRANT SELECT, INSERT ON tenants, api_keys, ledger_entries, ledger_leaves, ledger_tree_nodes, ledger_checkpoints, platform_keys, outbox TO custody_app;
GRANT UPDATE (revoked_at, last_used_at, name) ON api_keys TO custody_app;
GRANT UPDATE (retired_at) ON platform_keys TO custody_app;
GRANT UPDATE (relayed_at) ON outbox TO custody_app;
GRANT SELECT, INSERT, DELETE ON ledger_pending TO custody_app;
GRANT SELECT, UPDATE ON ledger_head TO custody_app;
