"""The append-only, hash-chained audit log: every entry carries the hash of the one before."""
