-- Live processes by kind, so that limits meant for the whole platform (a tenant's ingest rate, an
-- endpoint's rate and concurrency) can be split among the processes enforcing them.
-- UNLOGGED: a beat is rewritten every second and worth nothing after a crash (every live process
-- writes its row again within one beat), so it costs no WAL and is not replicated.
CREATE UNLOGGED TABLE process_heartbeats (
  kind        text NOT NULL,
  process_id  text NOT NULL,
  -- The database's clock, never a process's, so clock skew between machines cannot make a peer look dead.
  last_seen   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, process_id)
);
