-- The operator console and the endpoint-owner portal.

-- Portal sessions: a short-lived link a tenant hands the owner of some of its endpoints. The token is
-- shown once (in the link) and stored only as its SHA-256. A session can be revoked before it expires.
CREATE TABLE portal_sessions (
  id            text PRIMARY KEY CHECK (id ~ '^pts_[A-Za-z0-9]{16,40}$'),
  tenant_id     text NOT NULL REFERENCES tenants (id),
  token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  endpoint_ids  text[] NOT NULL CHECK (cardinality(endpoint_ids) BETWEEN 1 AND 100),
  capabilities  text[] NOT NULL,
  -- A few CSS variables the portal page applies ({"accent": "#0a7", …}).
  theme         jsonb NOT NULL DEFAULT '{}',
  -- The API key that made the session.
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  CHECK (expires_at > created_at)
);
CREATE INDEX portal_sessions_tenant ON portal_sessions (tenant_id, created_at, id);

-- A tenant's deliveries newest first, paged on (created_at, id) (GET /api/v2/deliveries, the
-- console's table); it also serves the stats' time window, so it replaces (tenant_id, created_at).
-- No column an attempt's outcome changes is indexed: the delivered update stays a HOT update.
CREATE INDEX deliveries_tenant_created_id ON deliveries (tenant_id, created_at, id);
DROP INDEX deliveries_tenant_created;

GRANT SELECT, INSERT, UPDATE ON portal_sessions TO custody_app;
