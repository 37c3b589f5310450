"""Experience memory on DuckDB: strategy library, notes, run records and the audit log.

Layer: above ``strategy``; beside ``runtime``, ``llm`` and ``tools``, which it never imports.
"""
