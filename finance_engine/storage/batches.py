"""The ``ingest_batch`` row of one ingest call, and the chunk bookkeeping shared by ingests.

Meter readings (:mod:`finance_engine.services.ingest`) and resident events
(:mod:`finance_engine.services.residents`) are both ingested as one batch: the row is opened
``running`` with the source and the content's SHA-256, the chunks are stored, and the row is
closed ``complete`` with the counts and the JSON report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sized
from itertools import chain
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine

from finance_engine.db import unit_of_work
from finance_engine.models import IngestBatch

T = TypeVar("T")

SOURCE_CHARS = 500
"""Characters of the source kept (the end of a long path)."""


def open_ingest_batch(engine: Engine, source: str, sha256: str) -> int:
    """Insert a ``running`` batch row for ``source`` (content ``sha256``); return its id."""
    with unit_of_work(engine) as session:
        batch = IngestBatch(
            source=source[-SOURCE_CHARS:], content_sha256=sha256, report={"status": "running"}
        )
        session.add(batch)
        session.flush()
        assert batch.id is not None
        return batch.id


class BatchCounts(Protocol):
    """What a batch report counts (records received, newly stored, repeats, rejected)."""

    @property
    def batch_id(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def accepted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def rejected(self) -> Sized: ...


def close_ingest_batch(engine: Engine, counts: BatchCounts, report: dict[str, Any]) -> None:
    """Store the counts of batch ``counts.batch_id`` and mark it ``complete`` with ``report``
    (the JSON report, stored after ``"status": "complete"``)."""
    with unit_of_work(engine) as session:
        batch = session.get(IngestBatch, counts.batch_id)
        assert batch is not None
        batch.rows, batch.accepted = counts.rows, counts.accepted
        batch.duplicates, batch.rejected = counts.duplicates, len(counts.rejected)
        batch.report = {"status": "complete", **report}
        session.add(batch)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def first_read(chunks: Iterator[T]) -> Iterator[T]:
    """Read the first chunk now, so a file's header and shape errors raise before a batch is
    opened; the returned iterator yields every chunk, that one included."""
    first = next(chunks, None)
    return chunks if first is None else chain((first,), chunks)
