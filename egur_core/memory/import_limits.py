"""How much an import may bring, checked before anything is loaded.

A 3 MB zip can inflate to 3 GiB and a 315 kB Parquet file can hold 6 million rows: both used to end
in a MemoryError. These limits are checked on what the file *declares* (its size, the zip's central
directory, the Parquet footer), so a bomb is refused before it is decompressed; Python's zipfile
never inflates a member past its declared size. Field lengths match what the app itself accepts
(a note is at most 2,000 characters), so an imported note cannot become a 30 MB prompt.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyarrow.parquet as pq

from egur_core.memory.records import MemoryImportError

MAX_IMPORT_BYTES = 64 * 1024 * 1024  # a JSON file, or the inflated members of a zip together
MAX_IMPORT_ROWS = 100_000  # per section (strategies, library, notes, memory_ops)
MAX_NOTE_CHARS = 2_000  # the same as AddNote
MAX_SIGNATURE_CHARS = 4_000  # the same as AddEntry
MAX_EXAMPLE_CHARS = 20_000


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise MemoryImportError(f"cannot import {path.name}: {size:,} bytes is over the import limit of "
                                f"{MAX_IMPORT_BYTES:,} bytes; nothing was changed")


def check_zip(path: Path, zf: zipfile.ZipFile) -> None:
    """The inflated size the zip declares, before any member is read."""
    total = sum(info.file_size for info in zf.infolist())
    if total > MAX_IMPORT_BYTES:
        raise MemoryImportError(f"cannot import {path.name}: it would inflate to {total:,} bytes, over the import "
                                f"limit of {MAX_IMPORT_BYTES:,} bytes (a zip bomb?); nothing was changed")


def check_parquet(path: Path, section: str, data: bytes) -> None:
    """Rows and decoded size from the Parquet footer, before the table is read."""
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    if meta.num_rows > MAX_IMPORT_ROWS:
        raise MemoryImportError(f"cannot import {path.name}: {section} has {meta.num_rows:,} rows, over the import "
                                f"limit of {MAX_IMPORT_ROWS:,}; nothing was changed")
    decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if decoded > MAX_IMPORT_BYTES:
        raise MemoryImportError(f"cannot import {path.name}: {section} decodes to {decoded:,} bytes, over the import "
                                f"limit of {MAX_IMPORT_BYTES:,} bytes; nothing was changed")


def check_rows(path: Path, raw: dict) -> None:
    """Rows per section of a parsed JSON export."""
    for section, rows in raw.items():
        if isinstance(rows, list) and len(rows) > MAX_IMPORT_ROWS:
            raise MemoryImportError(f"cannot import {path.name}: {section} has {len(rows):,} rows, over the import "
                                    f"limit of {MAX_IMPORT_ROWS:,}; nothing was changed")
