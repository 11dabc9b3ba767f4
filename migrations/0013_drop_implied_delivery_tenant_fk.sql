-- A delivery's tenant was checked twice on every insert: by this key, and by the key to its event,
-- (tenant_id, event_id) -> events (tenant_id, id), whose tenant_id references tenants itself, so the
-- second implies the first. Each check also took a KEY SHARE lock on the tenant's row, which every
-- concurrent ingest and dispatch transaction of the tenant takes too (each lock beyond the first
-- makes a multixact). Without it, inserting deliveries took 10 % less time in a scratch test
-- (batches of 256 rows, two clients; docs/benchmarks.md).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_tenant_id_fkey;
