-- Inclusion proofs asked for by leaf hash (GET /api/v2/proofs/inclusion?leafHash=) look an entry up
-- by equality of a random 32-byte key, all this index is for: a hash index keeps 4 bytes of hash per
-- entry where the B-tree kept the whole key, in pages that random keys left about 70 % full —
-- 73 bytes per entry as a B-tree, 35 as a hash index (docs/benchmarks.md).
DROP INDEX ledger_entries_leaf_hash;
CREATE INDEX ledger_entries_leaf_hash ON ledger_entries USING hash (leaf_hash);
