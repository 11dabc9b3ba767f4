-- Indexes for the delivery operations and the proof service.

-- An endpoint's deliveries newest first (GET /webhooks/{id}/deliveries, stats for one endpoint).
CREATE INDEX deliveries_endpoint_created ON deliveries (endpoint_id, created_at, id);
-- A tenant's deliveries in a time window (GET /webhooks/stats).
CREATE INDEX deliveries_tenant_created ON deliveries (tenant_id, created_at);
-- Inclusion proofs asked for by leaf hash (GET /api/v2/proofs/inclusion?leafHash=).
CREATE INDEX ledger_entries_leaf_hash ON ledger_entries (leaf_hash);
