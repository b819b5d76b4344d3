"""The journal of a Parquet recording (``PATH.journal``): where each whole row group is, so a
recording cut short by a crash or a full disk (no Parquet footer) still replays.

Each entry is ``<QQI``: the row group's offset in the file, its length, and the length of the
footer bytes that follow the entry (the Thrift ``FileMetaData`` of a one-group file). The
recorder (:mod:`feeds.storage.recorder`) appends one per row group and removes the journal once the
file is closed whole; the replay (:mod:`feeds.storage.replay`) reads it only when the footer is
missing.
"""

from __future__ import annotations

import struct
from pathlib import Path

JOURNAL_SUFFIX = ".journal"
ENTRY = struct.Struct("<QQI")  # journal entry: row group offset, length, footer length


def read_journal(path: Path, journal: Path):  # -> tuple[pa.Table, int] | None
    """Rebuild an interrupted Parquet recording (no footer) from its journal: (the rows of every
    whole row group the journal lists, the bytes skipped after them), or None without a usable
    journal. Raises nothing: a torn last entry or a row group past the file's end ends it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = path.read_bytes()
        entries = journal.read_bytes()
    except OSError:
        return None
    tables = []
    k = 0
    end = 4
    while k + ENTRY.size <= len(entries):
        start, length, flen = ENTRY.unpack_from(entries, k)
        footer = entries[k + ENTRY.size : k + ENTRY.size + flen]
        if len(footer) < flen or start + length > len(data):
            break  # torn by the crash: the rows after this point were not whole
        try:
            tables.append(
                pq.read_table(pa.BufferReader(b"PAR1" + data[start : start + length] + footer))
            )
        except (pa.ArrowException, OSError):
            break
        end = start + length
        k += ENTRY.size + flen
    if not tables:
        return None
    return pa.concat_tables(tables), len(data) - end
