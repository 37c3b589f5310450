"""Experience memory on DuckDB: strategy library, notes, run records and the audit log."""
