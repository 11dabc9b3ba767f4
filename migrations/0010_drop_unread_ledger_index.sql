-- No statement reads ledger entries by tenant (a tenant's records are found through its events and
-- deliveries, and tenants are never deleted), yet every entry paid for this index: about 100 bytes
-- per entry, since each tenant's entries are appended in the middle of it, where B-tree pages split
-- half full (docs/benchmarks.md).
DROP INDEX ledger_entries_tenant;
